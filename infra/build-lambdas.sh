#!/usr/bin/env bash
# Release build of every Lambda for arm64 (Graviton, provided.al2023), as deployed:
#   target/lambda/<function>/bootstrap       the binary
#   target/lambda/<function>.zip             the deployment package (bootstrap at its root)
#   target/lambda/sizes.json                 binary and zipped size per function
# Not part of the test command (several minutes on 2 cores); see infra/DEPLOYING.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

infra/tools.sh
# cargo-lambda (and the zig it cross-links with, found through `python3 -m ziglang`)
# come from the project venv: its bin must come first on PATH, python3 included.
export PATH="$PWD/.venv-tools/bin:$PATH"

functions=()
for manifest in functions/*/Cargo.toml; do
  functions+=("$(basename "$(dirname "$manifest")")")
done
bins=()
for function in "${functions[@]}"; do bins+=(--bin "$function"); done

started=$(date +%s)
# --lambda-dir: the packages land in target/lambda even with another CARGO_TARGET_DIR
# (a separate one avoids waiting for the lock of a target dir busy with other builds).
cargo lambda build --release --arm64 --locked --lambda-dir target/lambda "${bins[@]}"
elapsed=$(( $(date +%s) - started ))

# Zip each bootstrap the way Lambda expects it (the file named bootstrap at the root,
# executable). Python's zipfile keeps this independent of a `zip` binary.
python3 - "$elapsed" "${functions[@]}" <<'PY'
import json, os, sys, zipfile

elapsed, names = int(sys.argv[1]), sys.argv[2:]
rows = []
for name in names:
    binary = os.path.join("target", "lambda", name, "bootstrap")
    if not os.path.isfile(binary):
        sys.exit(f"build-lambdas: {binary} is missing")
    archive = os.path.join("target", "lambda", f"{name}.zip")
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16  # a regular, executable file
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, "rb") as source, zipfile.ZipFile(archive, "w") as out:
        out.writestr(info, source.read(), compresslevel=9)
    rows.append({"function": name, "binary_bytes": os.path.getsize(binary),
                 "zip_bytes": os.path.getsize(archive)})

report = {"target": "aarch64-unknown-linux-gnu", "profile": "release",
          "build_seconds": elapsed, "functions": rows}
with open(os.path.join("target", "lambda", "sizes.json"), "w") as out:
    json.dump(report, out, indent=2)
    out.write("\n")

mib = lambda n: f"{n / 1048576:.2f} MiB"
print(f"\n{'function':<16} {'binary':>12} {'zipped':>12}")
for row in rows:
    print(f"{row['function']:<16} {mib(row['binary_bytes']):>12} {mib(row['zip_bytes']):>12}")
print(f"{'total':<16} {mib(sum(r['binary_bytes'] for r in rows)):>12} "
      f"{mib(sum(r['zip_bytes'] for r in rows)):>12}")
print(f"\nbuilt in {elapsed} s; sizes in target/lambda/sizes.json")
PY
