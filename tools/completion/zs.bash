# bash completion for zs — candidates come from the binary (its API table):
#   source tools/completion/zs.bash   (or copy it to /etc/bash_completion.d/zs)
_zs() {
    local line=${COMP_LINE:0:COMP_POINT}
    local word=${line##* }
    local IFS=$'\n'
    COMPREPLY=($("${COMP_WORDS[0]}" __complete "${line#* }" 2>/dev/null))
    # bash splits words at '=' too: then it replaces only what follows the last '='
    if [[ $word == *=* && $COMP_WORDBREAKS == *=* ]]; then
        COMPREPLY=("${COMPREPLY[@]#"${word%=*}="}")
    fi
}
complete -o nospace -F _zs zs
