#!/usr/bin/env bash
# Benchmarks/profile.sh: the profiles behind docs/PERFORMANCE.md. Run after Scripts/bench (it
# uses the binaries that built); root, valgrind and linux-perf needed.
#
#   Benchmarks/profile.sh callgrind   instructions each daemon executes per loop iteration
#                                     (tsmfs vs the C reference) and tsmfs's top functions
#   Benchmarks/profile.sh cat         where a cat of a FUSE register spends its extra time:
#                                     perf cpu-clock samples on CPU 0 while 300 cats run, for
#                                     tmpfs, the C reference and the C reference + proposal
#
# Environment: SCRATCH_PATH as for Scripts/bench [.build]; PROFILE_N loop iterations [2000].
# Output goes to stdout and to .bench/profile-*/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SCRATCH_PATH=${SCRATCH_PATH:-.build}
N=${PROFILE_N:-2000}
BIN="$SCRATCH_PATH/bench"
SWIFT=$(command -v swift || echo /opt/swift/usr/bin/swift)
TSMFS="$("$SWIFT" build -c release --scratch-path "$SCRATCH_PATH" --show-bin-path)/tsmfs"
for f in "$TSMFS" "$BIN/tsmref" "$BIN/loop"; do [[ -x $f ]] || { echo "profile: $f missing: run Scripts/bench first" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/tsmfs-profile.XXXXXX)
PIDS=()
cleanup() {
    local pid mp
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    for mp in "$WORK"/m*; do mountpoint -q "$mp" 2>/dev/null && { fusermount3 -u -z "$mp" || umount -l "$mp"; }; done
    grep -q " $WORK" /proc/self/mounts || rm -rf "$WORK"
}
trap cleanup EXIT

wait_mounted() {
    local i
    for ((i = 0; i < 600; i++)); do mountpoint -q "$1" && return 0; sleep 0.05; done
    echo "profile: $1 did not mount" >&2
    exit 1
}

callgrind() {
    command -v valgrind >/dev/null || { echo "profile: apt-get install valgrind" >&2; exit 1; }
    local out=.bench/profile-callgrind
    rm -rf "$out"
    mkdir -p "$out"
    # Valgrind 3.19 (Debian 12) cannot read the DWARF 5 that Swift 6 emits: profile a copy without
    # debug info; the symbol table still names every function.
    objcopy --strip-debug "$TSMFS" "$WORK/tsmfs"
    local daemon mp pid phase
    for daemon in tsmfs cref; do
        mp="$WORK/m-$daemon"
        mkdir "$mp"
        local cmd=("$WORK/tsmfs" mount "$mp")
        [[ $daemon == cref ]] && cmd=("$BIN/tsmref" "$mp")
        valgrind --tool=callgrind --callgrind-out-file="$out/$daemon.%p" "${cmd[@]}" 2>"$out/$daemon.log" &
        pid=$!
        PIDS+=("$pid")
        wait_mounted "$mp"
        local reg="$mp/tdx/rtmr0/digest"
        for phase in read write pread cat; do
            callgrind_control -z "$pid" >/dev/null 2>&1
            if [[ $phase == cat ]]; then
                "$BIN/loop" exec 200 -- cat "$reg" >/dev/null
            else
                "$BIN/loop" "$phase" "$reg" "$N" >/dev/null
            fi
            callgrind_control -d "$phase" "$pid" >/dev/null 2>&1
        done
        kill -TERM "$pid"
        wait "$pid" || true
    done
    local warm=$((N / 10 < 1000 ? N / 10 : 1000))
    echo "Instructions the daemon executed per iteration (callgrind, all threads; $N iterations + $warm warm-up; cat: per run)"
    printf '  %-8s %12s %12s %8s\n' phase tsmfs "C ref" ratio
    for phase in read write pread cat; do
        local t c runs=$((N + warm))
        [[ $phase == cat ]] && runs=200
        t=$(grep -l "Trigger: dump $phase" "$out"/tsmfs.* | head -1 | xargs grep '^summary:' | awk '{print $2}')
        c=$(grep -l "Trigger: dump $phase" "$out"/cref.* | head -1 | xargs grep '^summary:' | awk '{print $2}')
        printf '  %-8s %12d %12d %8.2f\n' "$phase" $((t / runs)) $((c / runs)) "$(echo "$t $c" | awk '{print $1 / $2}')"
    done
    local mode
    for phase in pread write; do
        for mode in no yes; do
            echo
            if [[ $mode == no ]]; then echo "tsmfs, $phase: top functions by self cost"; else echo "tsmfs, $phase: inclusive cost"; fi
            callgrind_annotate --inclusive=$mode --threshold=100 "$(grep -l "Trigger: dump $phase" "$out"/tsmfs.* | head -1)" 2>/dev/null \
                | grep -E '^ *[0-9,]+ \(' | grep -vE 'PROGRAM TOTALS|:clone |:start_thread ' | head -14 | cut -c1-170 || true
        done
    done
}

cat_profile() {
    command -v perf >/dev/null || { echo "profile: apt-get install linux-perf" >&2; exit 1; }
    local out=.bench/profile-cat
    rm -rf "$out"
    mkdir -p "$out"
    mkdir "$WORK/m-cref" "$WORK/m-crefp"
    taskset -c 0 "$BIN/tsmref" "$WORK/m-cref" &
    PIDS+=($!)
    taskset -c 0 "$BIN/tsmref" --noflush --max-read 4096 "$WORK/m-crefp" &
    PIDS+=($!)
    wait_mounted "$WORK/m-cref"
    wait_mounted "$WORK/m-crefp"
    local shm
    shm=$(mktemp /dev/shm/tsmfs-profile.XXXXXX)
    head -c 48 /dev/zero >"$shm"
    local target file round rounds=5 runs=100
    echo "cat, $rounds rounds of $runs runs per target, interleaved, on CPU 0 (daemons on CPU 0 too);"
    echo "perf cpu-clock samples at 20 kHz (50 µs each), in µs per cat run by where they fell"
    echo "(perf's own overhead inflates all columns alike; compare the rows):"
    : >"$out/sums"
    for ((round = 1; round <= rounds; round++)); do
        for target in tmpfs cref crefp; do
            case $target in
                tmpfs) file=$shm ;;
                *) file="$WORK/m-$target/tdx/rtmr0/digest" ;;
            esac
            local ns
            ns=$(taskset -c 0 perf record -q -e cpu-clock -F 20000 -C 0 -g -o "$out/$target.$round.data" -- \
                "$BIN/loop" exec "$runs" -- cat "$file" | awk '{print $1}')
            perf report -i "$out/$target.$round.data" --stdio --no-children --sort comm,sym -n 2>/dev/null \
                >"$out/$target.$round.txt"
            # mm: page faults, page allocation and clearing, unmapping, pinning user pages (direct
            # I/O); sch: context switches and wake-ups; fuse: fs/fuse; daemon: the tsmref process.
            awk -v ns="$ns" -v t="$target" '
                $1 ~ /%$/ && $2 ~ /^[0-9]+$/ {
                    n = $2; comm = $3; sym = $5
                    if (comm == "tsmref") { daemon += n; next }
                    if (comm != "cat") { other += n; next }
                    if (sym ~ /fault|page|pte|folio|gup_|user_pages|follow_|clear_|memcg|lruvec|anon|unmap|mm_|vma|tlb|zap|rmap/) mm += n
                    else if (sym ~ /task_switch|schedule|wake|spin_unlock_irq|__switch_to|enqueue|dequeue|pick_next/) sch += n
                    else if (sym ~ /^fuse_|^__fuse/) fuse += n
                    else rest += n
                }
                END { print t, ns, mm + 0, sch + 0, fuse + 0, rest + 0, daemon + 0, other + 0 }' \
                "$out/$target.$round.txt" >>"$out/sums"
        done
    done
    printf '  %-7s %8s %8s %8s %8s %8s %8s %8s\n' target "wall" "cat:mm" "cat:sch" "cat:fuse" "cat:rest" "daemon" "other"
    awk -v runs="$runs" '
        { n[$1]++; ns[$1] += $2; for (i = 3; i <= 8; i++) s[$1, i] += $i }
        END {
            split("tmpfs cref crefp", order, " ")
            for (k = 1; k <= 3; k++) {
                t = order[k]; f = 50 / (runs * n[t])
                printf "  %-7s %8.0f", t, ns[t] / n[t] / 1000
                for (i = 3; i <= 8; i++) printf " %8.0f", s[t, i] * f
                printf "\n"
            }
        }' "$out/sums"
    echo "  (wall: mean of the rounds' median run time under perf; cref: the C reference as tsmfs is;"
    echo "   crefp: with --noflush --max-read 4096)"
    rm -f "$shm"
    echo "(full reports: $out/*.txt)"
}

case ${1:-} in
    callgrind) callgrind ;;
    cat) cat_profile ;;
    *) echo "usage: $0 callgrind|cat" >&2; exit 2 ;;
esac
