# bash completion for vtdsim. Commands, options and enumerated values come from the tool's own
# help texts (`vtdsim --help`, `vtdsim COMMAND --help`), so the completion follows the tool:
# an option written "--opt a|b|c" completes to a, b, c; run and translate complete scenario
# files (*.yaml) and folders; trace's gen completes its workload kinds, its import the trace's
# origin (linux); inspect completes its commands after IMAGE.

# Option names in a help text (--long, and short ones such as -j, -o, -v).
_vtdsim_options() {
    "$1" "$2" --help 2>/dev/null | grep -oE '(^|[[:space:]\[])--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' [' | sort -u
}

# The values of an option written "--opt a|b|c" in a help text.
_vtdsim_values() {
    "$1" "$2" --help 2>/dev/null | grep -oE -- "$3 [a-z0-9.-]+(\|[a-z0-9.-]+)+" | head -n 1 |
        cut -d' ' -f2 | tr '|' '\n'
}

_vtdsim() {
    local tool=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd=${COMP_WORDS[1]:-} words
    COMPREPLY=()
    if [ "$COMP_CWORD" -eq 1 ]; then
        words=$("$tool" --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
        mapfile -t COMPREPLY < <(compgen -W "$words --help --version" -- "$cur")
        return
    fi
    if [ "$cmd" = trace ] && [ "$COMP_CWORD" -eq 2 ] && [[ $cur != -?* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "gen replay sweep convert import --help" -- "$cur")
        return
    fi
    if [ "$cmd" = trace ] && [ "$prev" = import ]; then
        mapfile -t COMPREPLY < <(compgen -W "linux" -- "$cur")
        return
    fi
    if [ "$cmd" = trace ] && [ "$prev" = gen ]; then
        words=$("$tool" trace --help 2>/dev/null | sed -n 's/^gen KIND: //p' | tr -d ',')
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
        return
    fi
    # inspect: machine options (each with a value), IMAGE, then a command from the help's list.
    if [ "$cmd" = inspect ] && [[ $cur != -* ]]; then
        local i=2
        while [ "$i" -lt "$COMP_CWORD" ] && [[ ${COMP_WORDS[i]} == -* ]]; do i=$((i + 2)); done
        if [ "$i" -eq $((COMP_CWORD - 1)) ]; then
            words=$("$tool" inspect --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ && !seen[$1]++ { print $1 }')
            mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
            return
        fi
    fi
    case $prev in
    --*)
        words=$(_vtdsim_values "$tool" "$cmd" "$prev")
        if [ -n "$words" ]; then
            mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
            return
        fi
        ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_vtdsim_options "$tool" "$cmd")" -- "$cur")
        return
    fi
    case $cmd in
    run | translate)
        mapfile -t COMPREPLY < <(compgen -d -- "$cur" || true; compgen -f -X '!*.yaml' -- "$cur" || true)
        ;;
    *)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur" || true)
        ;;
    esac
}
complete -F _vtdsim vtdsim
