# kill -9 during sustained ingest, three times: every acknowledged event and
# every handoff is there after a restart, and nothing is there twice.
# Synchronised by a pipe of acknowledgements, never by sleeping.
set -e
. "$(dirname "$0")/lib.inc"
C="$SRC/contracts/example.yaml"
DB="$TMP/baton.db"
key=$("$BATON" token create --db "$DB" --role ingest 2>/dev/null)

start_server() {
    rm -f "$TMP/ready"
    mkfifo "$TMP/ready"
    "$BATON" serve --contract "$C" --db "$DB" --listen 127.0.0.1:0 > "$TMP/ready" 2>> "$TMP/server.err" &
    pid=$!
    pids="$pids $pid"
    read -r line < "$TMP/ready"
    url=${line#baton: listening on }
}

# Sends batches until the server stops answering; after each acknowledged
# batch, writes its number to the acks pipe and the acks log.
sender() {
    round=$1
    i=0
    while [ $i -lt 400 ]; do
        i=$((i + 1))
        lead="r$round-$i"
        body="{\"batch\":[{\"type\":\"identify\",\"userId\":\"$lead\",\"messageId\":\"$lead-a\",\"timestamp\":\"2026-10-05T09:00:00Z\",\"traits\":{\"email\":\"$lead@northwind.example\",\"pain\":\"p\",\"impact\":\"i\"}},{\"type\":\"page\",\"userId\":\"$lead\",\"messageId\":\"$lead-b\",\"timestamp\":\"2026-10-05T09:03:00Z\",\"category\":\"pricing\",\"properties\":{\"seconds\":200}}]}"
        status=$(curl -s -o /dev/null -w '%{http_code}' -u "$key:" -H 'Content-Type: application/json' --data-binary "$body" "$url/v1/batch" || true)
        [ "$status" = 200 ] || break
        echo "$lead" >> "$TMP/acked"
        echo "$i"
    done
}

: > "$TMP/acked"
round=0
while [ $round -lt 3 ]; do
    round=$((round + 1))
    start_server
    if [ $round -eq 1 ]; then
        curl -s -o /dev/null -u "$key:" -d '{"userId":"r0","groupId":"northwind.example","timestamp":"2026-10-05T08:00:00Z","traits":{"domain":"northwind.example","industry":"software","employees":450}}' "$url/v1/group"
    fi
    rm -f "$TMP/acks"
    mkfifo "$TMP/acks"
    sender $round > "$TMP/acks" &
    spid=$!
    # wait for 25 acknowledged batches, then kill the server while the
    # sender keeps sending; the pipe stays open so the sender is not stopped
    exec 3< "$TMP/acks"
    n=0
    while [ $n -lt 25 ] && read -r _ <&3; do n=$((n + 1)); done
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    cat <&3 > /dev/null  # the sender's last acknowledgements, until it stops
    exec 3<&-
    wait "$spid" 2>/dev/null || true
done
start_server

acked=$(wc -l < "$TMP/acked")
[ "$acked" -ge 75 ] && ok || bad "fewer acknowledgements than expected: $acked"
missing=0
while read -r lead; do
    got=$(sqlite3 "$DB" "select count(*) from events where message_id in ('$lead-a','$lead-b')")
    [ "$got" -eq 2 ] || missing=$((missing + 1))
    h=$(sqlite3 "$DB" "select count(*) from handoffs where lead = '$lead'")
    [ "$h" -eq 1 ] || missing=$((missing + 1))
done < "$TMP/acked"
[ $missing -eq 0 ] && ok || bad "$missing acknowledged events or handoffs are missing or doubled"
# Every acknowledged lead again, with another pricing visit: a lead whose
# state a restart lost (saved or replayed) would be handed off a second time.
body='{"batch":['
while read -r lead; do
    body="$body{\"type\":\"page\",\"userId\":\"$lead\",\"messageId\":\"$lead-c\",\"timestamp\":\"2026-10-05T10:00:00Z\",\"category\":\"pricing\",\"properties\":{\"seconds\":300}},"
done < "$TMP/acked"
body="${body%,}]}"
status=$(curl -s -o /dev/null -w '%{http_code}' -u "$key:" -H 'Content-Type: application/json' --data-binary "$body" "$url/v1/batch")
[ "$status" = 200 ] && ok || bad "the follow-up batch was answered $status"
dups=$(sqlite3 "$DB" "select count(*) from (select lead from handoffs group by lead having count(*) > 1)")
# state is saved every second and each round is killed sooner: the starts
# replayed what the kills left unsaved
grep -q "replayed [0-9]* events stored after the last save" "$TMP/server.err" && ok || bad "no start replayed anything: $(cat "$TMP/server.err")"
[ "$dups" -eq 0 ] && ok || bad "$dups leads were handed off twice"
kill -TERM "$pid"
wait "$pid" || true
finish
