# seed.sh - sourced by bench/run and tests/soak/run: the data of a load run, made with the CLI.
#
# load_seed TESSERA DIR NAME seeds $TESSERA_DB (its master key from the environment): an org
# "NAME Org", groups Customers and Staff both granted an app, an Embed access token without a rate
# limit, and the signing key (made now, so that no start-up makes one). Sets ORG, G1, G2, APP and
# ACCESS, and writes DIR/access.txt as bench/wrk.lua reads it ("<access token> <G1>,<G2>").
# The token request body of every load run is bench/token-body.json (@EMAIL@ and @GROUPS@ are
# filled in per request by bench/wrk.lua).
load_seed() {
  local tessera=$1 dir=$2 name=$3
  ORG=$("$tessera" org create "$name Org")
  G1=$("$tessera" group create --org "$ORG" "Customers")
  G2=$("$tessera" group create --org "$ORG" "Staff")
  APP=$("$tessera" app create --org "$ORG" "Billing" --allow-origin https://app.load.example)
  "$tessera" group grant --org "$ORG" "$G1" "$APP" >/dev/null 2>&1
  "$tessera" group grant --org "$ORG" "$G2" "$APP" >/dev/null 2>&1
  ACCESS=$("$tessera" token create --org "$ORG" --name "$name host backend" --rate-limit off 2>/dev/null)
  "$tessera" keys rotate >/dev/null
  printf '%s %s,%s\n' "$ACCESS" "$G1" "$G2" >"$dir/access.txt"
}
