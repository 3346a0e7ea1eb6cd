#!/usr/bin/env bash
# The stress check: `make test` three times in a row while four processes burn CPU.
#
# A test that passes on an idle machine but leans on real time (a sleep that must be
# long enough, a tight bound on a wait) fails here. Run it as `make stress` after
# changing tests that wait, about 20 minutes on 2 cores.
#
# Each burner is bounded (`timeout 3600`) and all are stopped, by their process id,
# when this script exits for any reason. Prints each run's exit status and duration and
# a final line; exits 1 if any run failed.
#
# Environment: STRESS_RUNS (3), STRESS_BURNERS (4), STRESS_MAKE (make).
set -u

cd "$(dirname "$0")/.." || exit 2

runs=${STRESS_RUNS:-3}
burner_count=${STRESS_BURNERS:-4}
make_command=${STRESS_MAKE:-make}
burners=()

stop_burners() {
    if ((${#burners[@]})); then
        kill "${burners[@]}" 2>/dev/null
        wait "${burners[@]}" 2>/dev/null
    fi
    burners=()
}
trap stop_burners EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for ((i = 0; i < burner_count; i++)); do
    timeout 3600 sh -c 'while :; do :; done' &
    burners+=("$!")
done
echo "stress: ${burner_count} CPU burners started (pids ${burners[*]}); ${runs} runs of '${make_command} test'"

failed=0
summary=()
for ((run = 1; run <= runs; run++)); do
    started=$(date +%s)
    "${make_command}" test
    status=$?
    seconds=$(($(date +%s) - started))
    line="stress: run ${run}/${runs}: exit ${status} in ${seconds} s"
    echo "${line}"
    summary+=("${line}")
    if ((status != 0)); then
        failed=$((failed + 1))
    fi
done

stop_burners
printf '%s\n' "${summary[@]}"
if ((failed)); then
    echo "stress: FAILED: ${failed} of ${runs} runs failed under ${burner_count} CPU burners"
    exit 1
fi
echo "stress: OK: ${runs} of ${runs} runs passed under ${burner_count} CPU burners"
