#!/usr/bin/env bash
# Regenerates the screenshots docs/ui.md shows (docs/ui/*.png): runs the browser tests of the web UI
# with ARCA_UI_DOCS_SHOTS=1, which makes each screenshot() that docs/ui.md shows also write docs/ui/<name>.png,
# beside the test artifact under test-artifacts/ui/ (every screenshot lands there).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find test/ui -name '*.test.ts' | sort)
ARCA_UI_DOCS_SHOTS=1 bash scripts/test.sh --no-install --no-typecheck --no-lint "${files[@]}"
ls docs/ui/*.png
