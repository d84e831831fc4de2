#!/usr/bin/env bash
# The whole test suite: installs what tests need if missing, then typecheck, lint and every test file.
# Tests start their own etcd, PostgreSQL and SoftHSM2 tokens on 127.0.0.1 and temp dirs.
#   bash scripts/test.sh [--no-typecheck] [--no-lint] [--no-install] [test files...]
set -euo pipefail
cd "$(dirname "$0")/.."
typecheck=1; lint=1; install=1; files=()
for a in "$@"; do
  case "$a" in
    --no-typecheck) typecheck=0 ;;
    --no-lint) lint=0 ;;
    --no-install) install=0 ;;
    *) files+=("$a") ;;
  esac
done
[ "$install" = 1 ] && bash scripts/install-deps.sh
if [ "$typecheck" = 1 ]; then echo "[test] typecheck"; npx tsc -p . && npx tsc -p web; fi
if [ "$lint" = 1 ]; then echo "[test] lint"; npx biome lint --diagnostic-level=error src test bench web; fi
if [ "${#files[@]}" -eq 0 ]; then
  # Node 20's --test neither expands globs nor finds .ts files by itself: pass them explicitly.
  mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
[ "${#files[@]}" -gt 0 ] || { echo "no test files found" >&2; exit 1; }
echo "[test] ${#files[@]} test files"
exec node --no-deprecation --import tsx --test --test-reporter=tap --test-concurrency="${ARCA_TEST_CONCURRENCY:-2}" \
  --test-timeout="${ARCA_TEST_TIMEOUT_MS:-300000}" "${files[@]}"
