# The real Segment and RudderStack Node clients, pointed at baton serve on
# loopback, send a buying journey; the handoffs appear through the API.
set -e
. "$(dirname "$0")/lib.inc"
C="$SRC/contracts/example.yaml"
DB="$TMP/baton.db"
NODE_DIR="$(dirname "$BATON")/e2e-node"   # kept in the build tree between runs

if [ ! -d "$NODE_DIR/node_modules/@segment/analytics-node" ] ||
   [ ! -d "$NODE_DIR/node_modules/@rudderstack/rudder-sdk-node" ]; then
    mkdir -p "$NODE_DIR"
    npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" \
        @segment/analytics-node@3 @rudderstack/rudder-sdk-node@3 > "$TMP/npm.log" 2>&1 ||
        { cat "$TMP/npm.log" >&2; bad "npm install of the client libraries failed"; finish; exit 1; }
fi
cp "$SRC/tests/e2e/sdk.mjs" "$NODE_DIR/sdk.mjs"

key=$("$BATON" token create --db "$DB" --role ingest --name sdk 2>/dev/null)
sales=$("$BATON" token create --db "$DB" --role sales 2>/dev/null)
mkfifo "$TMP/ready"
"$BATON" serve --contract "$C" --db "$DB" --listen 127.0.0.1:0 > "$TMP/ready" 2> "$TMP/server.err" &
pid=$!
pids="$pids $pid"
read -r line < "$TMP/ready"
url=${line#baton: listening on }

if node "$NODE_DIR/sdk.mjs" "$url" "$key" lead > "$TMP/out" 2> "$TMP/err"; then ok; else bad "the clients failed to send"; fi
curl -s -H "Authorization: Bearer $sales" "$url/api/handoffs" > "$TMP/out"
expect_out '"lead":"lead-segment","account":"northwind.example","gate":"fast_track"' "Segment's client: the pricing visit is a fast-track handoff"
expect_out '"lead":"lead-rudder","account":"northwind.example","gate":"fit_intent"' "RudderStack's client: the demo request is handed off"

# Both clients again with the same ids would be new messages (new messageIds);
# the handoffs do not repeat because the leads are past nurture.
node "$NODE_DIR/sdk.mjs" "$url" "$key" lead > /dev/null 2>&1 || true
curl -s -H "Authorization: Bearer $sales" "$url/api/handoffs" > "$TMP/out"
[ "$(grep -o '"record":"handoff"' "$TMP/out" | wc -l)" -eq 2 ] && ok || bad "a lead was handed off twice"

kill -TERM "$pid"
wait "$pid" || true
finish
