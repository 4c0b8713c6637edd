# stack.sh - sourced by the benchmarks: a throwaway archive (PostgreSQL,
# radosgw S3 on memstore, the database migrated, a user "bench" with
# $TOKEN) under $TMP, stopped by PID on exit unless KEEP=1. Call
# bench_stack_up after setting ROOT; bench_api_up starts the FastCGI pool
# ($WORKERS) and nginx on $BASE (the load generator's address exempt from
# the request limits); bench_api_down stops both.

free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport, "\n"'
}

bench_cleanup() {
	if [ -n "${KEEP:-}" ]; then
		echo "KEEP: stack left running in $TMP (api pid $API_PID, pg port $PGPORT, http $HTTPPORT)" >&2
		return
	fi
	[ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null
	"$ROOT/contrib/dev/nginx-ctl" stop "$TMP/nginx" >/dev/null 2>&1 || true
	"$ROOT/contrib/dev/s3-ctl" stop "$TMP/s3" >/dev/null 2>&1 || true
	"$ROOT/contrib/dev/pg-ctl" stop "$TMP/pg" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}

bench_stack_up() {
	[ -x "$ROOT/src/dandi-api" ] || { echo "build first: make" >&2; exit 1; }
	TMP=$(mktemp -d /tmp/dandi-bench.XXXXXX)
	chmod 755 "$TMP"
	PGPORT=$(free_port)
	HTTPPORT=$(free_port)
	S3PORT=$(free_port)
	API_PID=
	trap bench_cleanup EXIT
	"$ROOT/contrib/dev/pg-ctl" start "$TMP/pg" "$PGPORT" >/dev/null
	# PG_SETTINGS="name=value ...": the server's settings for the run (a
	# deployment's tuning, e.g. shared_buffers=4GB), then a restart.
	if [ -n "${PG_SETTINGS:-}" ]; then
		local kv
		for kv in $PG_SETTINGS; do
			psql -q -X -h "$TMP/pg" -p "$PGPORT" -U postgres -d postgres \
			    -c "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}'" >/dev/null
		done
		"$ROOT/contrib/dev/pg-ctl" restart "$TMP/pg" >/dev/null
	fi
	local osd
	osd=$(free_port)
	"$ROOT/contrib/dev/s3-ctl" start "$TMP/s3" --store memstore --rgw-port "$S3PORT" \
	    --mon-port "$(free_port)" --osd-ports "$osd-$((osd + 15))" >"$TMP/s3.log" 2>&1 ||
	    { cat "$TMP/s3.log" >&2; echo "S3 service did not start" >&2; exit 1; }
	. "$TMP/s3/credentials"
	DANDI_DB=$("$ROOT/contrib/dev/pg-ctl" conninfo "$TMP/pg" "$PGPORT")
	export DANDI_DB DANDI_API_URL="http://127.0.0.1:$HTTPPORT" DANDI_WEB_URL="http://127.0.0.1:$HTTPPORT"
	export DANDI_PAGE_CACHE_DIR="$TMP/page-cache"
	mkdir -p "$DANDI_PAGE_CACHE_DIR"
	export DANDI_LOG_LEVEL=warn DANDI_LOG_FILE="$TMP/api.log" DANDI_SCHEMA_DIR="$ROOT/share/schema"
	export DANDI_S3_ENDPOINT="$S3_ENDPOINT" DANDI_S3_BUCKET="$S3_BUCKET" DANDI_S3_ACCESS_KEY="$S3_ACCESS_KEY"
	export DANDI_S3_SECRET_KEY="$S3_SECRET_KEY" DANDI_S3_REGION="$S3_REGION"
	"$ROOT/src/dandi-admin" migrate --sql-dir "$ROOT/sql" >/dev/null
	"$ROOT/src/dandi-admin" create-user --username bench --email b@example.org --first Ben --last Ch >/dev/null
	TOKEN=$("$ROOT/src/dandi-admin" create-token --username bench)
	PSQL=(psql -q -X -v ON_ERROR_STOP=1 -h "$TMP/pg" -p "$PGPORT" -U postgres dandi)
	BASE="http://127.0.0.1:$HTTPPORT"
}

bench_api_up() {
	# nginx's request limits per client address (429s) would cap a load
	# generator that is one address.
	export DANDI_LIMIT_EXEMPT=${DANDI_LIMIT_EXEMPT:-127.0.0.1}
	"$ROOT/src/dandi-api" -s "$TMP/api.sock" -n "${WORKERS:-4}" &
	API_PID=$!
	mkdir -p "$TMP/www" && echo bench > "$TMP/www/index.html"
	for _ in $(seq 50); do [ -S "$TMP/api.sock" ] && break; sleep 0.1; done
	"$ROOT/contrib/dev/nginx-ctl" start "$TMP/nginx" "127.0.0.1:$HTTPPORT" "$TMP/api.sock" "$TMP/www" >/dev/null
}

bench_api_down() {
	[ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null
	API_PID=
	"$ROOT/contrib/dev/nginx-ctl" stop "$TMP/nginx" >/dev/null 2>&1 || true
	rm -f "$TMP/api.sock"
}
