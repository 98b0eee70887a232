# Sourced by the long recording scripts (data/corpora/generate.sh, bench/tuning/record_lr_table.sh), from the
# repository root, with WORK set: builds the CLI (unless ANNEAL_SKIP_BUILD=1) and runs it from a private copy, so that
# rebuilding the tree during an hour-long recording never swaps the engine (or leaves a half-written binary) between
# two runs. Sets BIN (the copy's executable, removed on exit) and ENGINE (the last commit that touched the trainer,
# the CLI or the schedules; data commits do not count; "+uncommitted changes" when the tree differs there).
[[ ${ANNEAL_SKIP_BUILD:-0} == 1 ]] || dotnet build src/Anneal.Cli -c Release -v quiet -nologo >/dev/null
mkdir -p "$WORK"
BINDIR=$(mktemp -d "$WORK/bin.XXXXXX")
trap 'rm -rf "$BINDIR"' EXIT
cp -r src/Anneal.Cli/bin/Release/net10.0/. "$BINDIR"
BIN=$BINDIR/Anneal.Cli
ENGINE=$(git log -1 --format=%h -- src/Anneal.Training src/Anneal.Cli src/Anneal/Schedules)
git diff --quiet HEAD -- src/Anneal.Training src/Anneal.Cli src/Anneal/Schedules || ENGINE="$ENGINE+uncommitted changes"
