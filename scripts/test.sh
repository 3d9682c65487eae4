#!/usr/bin/env bash
# Runs every test of the solution (unit, live kernel/WireGuard/FRR, scenarios) and ends with one line
# "N passed, N failed, N skipped" summed over all test projects. Exit non-zero on any failure.
# Live tests need root and what frr/install.sh installs; run as root (CI does).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CONFIG=${CONFIGURATION:-Release}
RESULTS=${TEST_RESULTS_DIR:-$ROOT/TestResults}

if [ "$(id -u)" -eq 0 ] && [ "${OVERLAY_SKIP_INSTALL:-0}" != "1" ]; then
  bash frr/install.sh || { echo "frr/install.sh failed"; echo "0 passed, 1 failed"; exit 1; }
  bash scripts/test-deps.sh || { echo "scripts/test-deps.sh failed"; echo "0 passed, 1 failed"; exit 1; }
elif [ "$(id -u)" -ne 0 ]; then
  echo "note: not root: live tests (namespaces, FRR, wireguard-go) will be skipped with that reason" >&2
fi
command -v dotnet >/dev/null || { echo "dotnet SDK not found on PATH"; echo "0 passed, 1 failed"; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Leftovers of an earlier crashed run would only waste addresses and names; sweep them first.
if [ "$(id -u)" -eq 0 ]; then dotnet run --project src/Overlay.Lab -c "$CONFIG" -- sweep >/dev/null 2>&1 || true; fi

rm -rf "$RESULTS"; mkdir -p "$RESULTS"
status=0
first_run_passed=0; first_run_failed=0
# The builds users install (scripts/publish.sh: NativeAOT overlayd and overlayctl, trim/AOT warnings are errors) are
# the ones the first-run demo below runs, so what is installed is what is tested. OVERLAY_SKIP_AOT=1 skips it.
aot_env=()
if [ "${OVERLAY_SKIP_AOT:-0}" != "1" ]; then
  echo "== publish: scripts/publish.sh (NativeAOT)"
  if OUT="$ROOT/out/aot" bash scripts/publish.sh > "$RESULTS/publish-aot.log" 2>&1; then
    first_run_passed=$((first_run_passed + 1)); echo "   NativeAOT publish passed"
    aot_env=(env OVERLAYD_DLL="$ROOT/out/aot/overlayd/overlayd" OVERLAYCTL_DLL="$ROOT/out/aot/overlayctl/overlayctl")
  else
    first_run_failed=$((first_run_failed + 1)); status=1
    echo "   Failed NativeAOT publish; last lines of $RESULTS/publish-aot.log (the demo runs the framework-dependent builds):"
    tail -n 40 "$RESULTS/publish-aot.log" | sed 's/^/     /'
  fi
fi
# The README's first command, as on a freshly booted machine (empty /run: no /run/wireguard, /run/frr, /run/netns),
# so a first-run assumption fails here and not on a user's new VM. It also builds the Release tree the tests use.
if [ "$(id -u)" -eq 0 ] && [ "${OVERLAY_SKIP_FIRST_RUN:-0}" != "1" ]; then
  echo "== first run: scripts/fresh-machine.sh scripts/demo.sh${aot_env:+ (NativeAOT overlayd and overlayctl)}"
  if "${aot_env[@]}" bash scripts/fresh-machine.sh bash scripts/demo.sh > "$RESULTS/first-run-demo.log" 2>&1; then
    first_run_passed=$((first_run_passed + 1)); echo "   first-run demo passed"
  else
    first_run_failed=$((first_run_failed + 1)); status=1
    echo "   Failed first-run demo (scripts/demo.sh in fresh-machine conditions); last lines of $RESULTS/first-run-demo.log:"
    tail -n 40 "$RESULTS/first-run-demo.log" | sed 's/^/     /'
  fi
fi

dotnet build Overlay.sln -c "$CONFIG" -nologo -clp:ErrorsOnly || { echo "build failed"; echo "$first_run_passed passed, $((first_run_failed + 1)) failed"; exit 1; }
# As root, every test project also runs with an empty /run (scripts/fresh-machine.sh): a test or a product path that
# relies on something an earlier run left there fails in CI, not on a user's first run. OVERLAY_KEEP_RUN=1 turns it off.
fresh=()
if [ "$(id -u)" -eq 0 ] && [ "${OVERLAY_KEEP_RUN:-0}" != "1" ]; then fresh=(bash scripts/fresh-machine.sh); fi
# One project at a time: live tests measure timings (BFD 100 ms, BGP withdrawal) and 2 cores are shared.
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  echo "== $name"
  # The operator's stories (scenario tests) drive the builds users install: the NativeAOT overlayd and overlayctl
  # published above (the other projects test code in-process, or their own builds of it).
  run_env=()
  if [ "$name" = Overlay.Scenarios.Tests ]; then run_env=("${aot_env[@]}"); fi
  "${fresh[@]}" "${run_env[@]}" dotnet test "$proj" -c "$CONFIG" --no-build -nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
      --results-directory "$RESULTS" --blame-hang-timeout 10m > "$RESULTS/$name.log" 2>&1
  rc=$?
  # Failures and skips (with their reasons) are what a reader needs; the full log stays in $RESULTS.
  # The line after "Error Message:" is the message itself (a bare "Error Message:" told CI readers nothing).
  awk 'm { print; m = 0 } /^[[:space:]]+(Failed|Skipped) |^[[:space:]]*(Passed|Failed)!|error [A-Z]+[0-9]+/ { print }
       /Error Message/ { print; m = 1 }' "$RESULTS/$name.log" | head -n 200 || true
  # A skip says why: the console logger omits the reason, the TRX has it.
  if [ -f "$RESULTS/$name.trx" ]; then
    awk 'BEGIN { RS = "</UnitTestResult>" } /outcome="NotExecuted"/ {
           n = $0; sub(/.*testName="/, "", n); sub(/".*/, "", n)
           r = $0; if (sub(/.*<Message>/, "", r)) { sub(/<\/Message>.*/, "", r); gsub(/[\r\n]+/, " ", r) } else r = "(no reason recorded)"
           print "  skip reason: " n ": " r }' "$RESULTS/$name.trx" | head -n 50
  fi
  [ "$rc" -eq 0 ] || status=1
  [ -f "$RESULTS/$name.trx" ] || { echo "no results for $name (test host crashed?)"; status=1; }
done

passed=$first_run_passed; failed=$first_run_failed; skipped=0
for trx in "$RESULTS"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  total=$(get total); executed=$(get executed)
  # VSTest counts a skipped test as "not executed": total - executed.
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
[ "$failed" -eq 0 ] || status=1
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
