#!/usr/bin/env bash
# Coverage-guided fuzzing of the input parsers (cargo-fuzz / libFuzzer, nightly). Not part of CI.
#
#   scripts/fuzz.sh [seconds-per-target]        (default 600)
#
# Installs cargo-fuzz if missing, seeds fuzz/corpus/<target>/ from the repository's small files,
# builds every target in fuzz/ and runs them one after another, one job each, for the given time.
# Prints per target the seconds run, the executions (libFuzzer's final stats) and whether it found
# a crash; crashing inputs are in fuzz/artifacts/<target>/, the logs in fuzz/artifacts/logs/.
#
# Environment:
#   FUZZ_TARGETS      targets to run, space-separated (default: all five)
#   FUZZ_TOOLCHAIN    rustup toolchain (default: nightly)
#   FUZZ_SANITIZER    address | none (default: none: the code under test is safe Rust, and on a
#                     small machine the executions matter more than ASan's checks)
#   FUZZ_KEEP_GOING   1: libFuzzer's fork mode (-fork=1 -ignore_crashes=1 ...), which records a
#                     crash and keeps fuzzing instead of stopping at the first one
#   FUZZ_ARGS         extra libFuzzer arguments
set -euo pipefail

secs="${1:-600}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
sanitizer="${FUZZ_SANITIZER:-none}"
targets="${FUZZ_TARGETS:-dataset safetensors config adapter setup_url}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz
fi

# --- seed corpora (copied at run time; fuzz/corpus is git-ignored) -------------------------------
seed() { # seed <target> <name> <file>: copy a file into the target's corpus
    mkdir -p "fuzz/corpus/$1"
    cp "$3" "fuzz/corpus/$1/seed-${2//\//_}"
}
small_files() { # small_files <max-bytes> <dir>... : regular files up to max-bytes, sorted
    local max="$1"
    shift
    for d in "$@"; do
        [ -d "$d" ] && find "$d" -type f -size "-$((max + 1))c"
    done | sort
}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# dataset: the first byte picks the file name (0 csv, 1 tsv, 2 json, 3 jsonl), the rest is the file.
for f in $(small_files 65536 crates/core/tests/data tests/fixtures tests/bad-inputs) \
    $(ls web/datasets/*.jsonl 2>/dev/null); do
    case "$f" in
    *.csv) b='\x00' ;; *.tsv) b='\x01' ;; *.jsonl) b='\x03' ;; *.json) b='\x02' ;; *) continue ;;
    esac
    { printf "$b"; head -c 2048 "$f"; } >"$tmp/d"
    seed dataset "$f" "$tmp/d"
done
# safetensors: every small safetensors file.
for f in $(small_files 262144 tests/fixtures tests/bad-inputs crates/core/tests/data); do
    case "$f" in *.safetensors) seed safetensors "$f" "$f" ;; esac
done
# config: model configs, then any JSON of the bad-input corpus named config-*.
for f in $(small_files 65536 tests/fixtures tests/bad-inputs); do
    case "$f" in */config.json | */config-*.json | */adapter_config.json) seed config "$f" "$f" ;; esac
done
# adapter: 2 bytes (little-endian length of the config) | adapter_config.json | safetensors.
for d in tests/fixtures/adapters/*/; do
    c="$d/adapter_config.json" w="$d/adapter_model.safetensors"
    [ -f "$c" ] && [ -f "$w" ] || continue
    n=$(wc -c <"$c")
    { printf "\\x$(printf %02x $((n % 256)))\\x$(printf %02x $((n / 256)))"; cat "$c" "$w"; } >"$tmp/a"
    seed adapter "$d" "$tmp/a"
done
# setup_url: query strings like those the page writes and the unit tests read.
i=0
for q in \
    "model=minilm&data=uci-yelp&eval=0.2&split_seed=0&sample=stratified&sample_seed=0&n=32&max_len=128&r=8&alpha=8&targets=query,value&layers=all&lora_seed=0&kernel=plain&layout=full&params=lora&lambdas=0.001,0.1,10&lambda=0.01&steps=8" \
    "?n=20&model=distilroberta" \
    "model=hub:org/tiny-roberta@refs/pr/2&hub=http://127.0.0.1:8123&" \
    "model=hub:sentence-transformers/all-MiniLM-L12-v2&hub=https://hf-mirror.com/" \
    "model=hub:../x@main&hub=javascript:alert(1)" \
    "data=upload:my%20reviews%20%28v2%29%26co.csv&text=review%20text&pair=hypothesis&label=Sentiment&task=regression" \
    "sample=picked&rows=3,1,40&layers=0,1&targets=query,key,value,dense&blocks=&backend=cpu" \
    "model=gpt9&n=0&eval=1.5&lambdas=&lambda=nan"; do
    mkdir -p fuzz/corpus/setup_url
    printf '%s' "$q" >"fuzz/corpus/setup_url/seed-$i"
    i=$((i + 1))
done

# --- build ---------------------------------------------------------------------------------------
echo "== building the fuzz targets (toolchain $toolchain, sanitizer $sanitizer)"
build_start=$SECONDS
(cd fuzz && cargo "+$toolchain" fuzz build -s "$sanitizer")
echo "== built in $((SECONDS - build_start)) s"

# --- run -----------------------------------------------------------------------------------------
mode=()
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
    mode=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
fi
mkdir -p fuzz/artifacts/logs
summary=()
for t in $targets; do
    mkdir -p "fuzz/artifacts/$t" "fuzz/corpus/$t"
    before="$(ls "fuzz/artifacts/$t" | grep -E '^(crash|oom|timeout|leak)-' || true)"
    log="fuzz/artifacts/logs/$t.log"
    echo "== $t: ${secs} s, corpus $(ls "fuzz/corpus/$t" | wc -l) inputs, log $log"
    start=$SECONDS
    set +e
    (cd fuzz && cargo "+$toolchain" fuzz run -s "$sanitizer" "$t" -- \
        -max_total_time="$secs" -timeout=30 -print_final_stats=1 "${mode[@]}" ${FUZZ_ARGS:-}) \
        >"$log" 2>&1
    rc=$?
    set -e
    ran=$((SECONDS - start))
    execs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$' || true)"
    if [ -z "$execs" ]; then # fork mode: the last status line `#N: ...` counts all executions
        execs="$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)"
    fi
    after="$(ls "fuzz/artifacts/$t" | grep -E '^(crash|oom|timeout|leak)-' || true)"
    new="$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d' | sed "s|^|fuzz/artifacts/$t/|" | tr '\n' ' ')"
    if [ -n "$new" ]; then
        result="FOUND: $new"
    elif [ "$rc" -ne 0 ]; then
        result="libFuzzer exited $rc (see $log)"
    else
        result="no crash"
    fi
    line="$t: ${ran} s, ${execs:-?} executions, $result"
    echo "   $line"
    summary+=("$line")
done

echo "== summary (${secs} s per target, sanitizer $sanitizer)"
printf '   %s\n' "${summary[@]}"
