#!/usr/bin/env bash
# Regenerates the screenshots in docs/ui/ (docs/ui.md shows them): runs the browser tests of the web UI
# with ARCA_UI_DOCS_SHOTS=1, which makes each screenshot() call write docs/ui/<name>.png as well as
# the test artifact under test-artifacts/ui/.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find test/ui -name '*.test.ts' | sort)
ARCA_UI_DOCS_SHOTS=1 bash scripts/test.sh --no-install --no-typecheck --no-lint "${files[@]}"
ls docs/ui/*.png
