#!/usr/bin/env bash
# Writes the upgrade-test fixture: a backup of the demo instance (with an
# evidence file and a signed annex per organisation) made by the nachweis
# binary of the commit this runs at. The test `backup_upgrade` restores it
# into the current code. Run it at the tagged release:
#   git worktree add /tmp/nachweis-v0.1.0 v0.1.0
#   (cd /tmp/nachweis-v0.1.0 && cargo build -p server --bin nachweis)
#   scripts/make-backup-fixture.sh "$CARGO_TARGET_DIR/debug/nachweis" \
#     server/tests/fixtures/backup-v0.1.0.tar
set -euo pipefail
bin="$1"
out="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
data="$work/data"
"$bin" --data-dir "$data" demo >/dev/null
printf '%%PDF-1.7\nNachweis fixture evidence\n%%%%EOF\n' >"$work/zutritt.pdf"
for org in conrat clickbits; do
  # The organisation's first measure (sqlite3 from Debian's package).
  measure="$(sqlite3 "$data/nachweis.db" "SELECT m.id FROM measures m JOIN organisations o ON o.id = m.org_id WHERE o.short_name = '$org' ORDER BY m.id LIMIT 1")"
  "$bin" --data-dir "$data" evidence add --org "$org" --measure "$measure" --title "Zutrittsprotokoll" "$work/zutritt.pdf" >/dev/null
  "$bin" --data-dir "$data" annex publish --org "$org" --out "$work/$org.pdf" >/dev/null
done
"$bin" --data-dir "$data" backup --out "$out"
