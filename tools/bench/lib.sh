# lib.sh — shell helpers shared by the bench scripts (sourced, not run).

# accepted_of WRK_OUTPUT: requests wrk sent minus those answered non-2xx.
accepted_of() {
  local sent refused
  sent=$(awk '/requests in/ {print $1}' "$1")
  refused=$(awk '/Non-2xx/ {print $NF}' "$1")
  echo $((sent - ${refused:-0}))
}

# wait_backlog COUNT_FUNCTION BEFORE TARGET: waits until COUNT_FUNCTION's value minus BEFORE
# reaches TARGET, or has not moved for 10 s (bounded). Prints how many were counted.
wait_backlog() {
  local count=$1 before=$2 target=$3 last=-1 still=0 n
  while :; do
    n=$(( $($count) - before ))
    [ "$n" -ge "$target" ] && break
    if [ "$n" -eq "$last" ]; then still=$((still + 1)); [ "$still" -ge 50 ] && break; else still=0; fi
    last=$n
    sleep 0.2
  done
  echo $(( $($count) - before ))
}
