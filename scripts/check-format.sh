#!/usr/bin/env bash
# Fails when a project C++ file (tracked; in a tree without git, as on a fresh machine, every one
# outside build/) differs from what clang-format-14 makes of it (.clang-format: Google's style,
# 120 columns). With --fix, rewrites the files instead. Pinned to Debian's clang-format-14 so
# that every machine formats alike (other versions differ in small ways).
set -euo pipefail
cd "$(dirname "$0")/.."
formatter=clang-format-14
if ! command -v "$formatter" >/dev/null; then
  echo "check-format: $formatter is missing (scripts/install-deps.sh --test installs it)" >&2
  exit 2
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
else  # an exported tree (git archive), as on a fresh machine: the same files, found by name
  mapfile -t files < <(find . \( -path ./build -o -name node_modules -o -path ./.git \) -prune -o \
    \( -name '*.cpp' -o -name '*.hpp' \) -print | sed 's|^\./||' | sort)
fi
if ((${#files[@]} == 0)); then
  echo "check-format: no C++ files found; run it from the project" >&2
  exit 2
fi
if [[ "${1:-}" == "--fix" ]]; then
  "$formatter" -i "${files[@]}"
  exit 0
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
if ! "$formatter" --dry-run --Werror "${files[@]}" 2>"$report"; then
  grep -m 20 'error:' "$report" >&2 || cat "$report" >&2
  echo "check-format: the files above are not formatted; scripts/check-format.sh --fix formats them" >&2
  exit 1
fi
echo "==> ${#files[@]} C++ files formatted as .clang-format says (clang-format-14)"
