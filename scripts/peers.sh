#!/usr/bin/env bash
# scripts/peers.sh — install, start, health-check and stop the real peers that gdhttp's tests
# meet: nginx (plain, TLS with a CA this script makes, and [::1] when the host has it), httpbin
# (Debian's python3-httpbin under gunicorn), tinyproxy (forward proxy + CONNECT, an open, a
# strict and a Basic-auth instance) and curl as a reference client. Everything listens on loopback only.
#
# Usage: scripts/peers.sh start|stop|restart|status|env|install|clean
#   start    install missing Debian packages (apt-get; needs root or passwordless sudo), generate
#            the file tree and certificates, start every peer that is not already running with
#            the same configuration, health-check all of them, then write .peers.env at the repo
#            root. Idempotent: a second start keeps healthy peers and only restarts changed ones.
#   stop     stop the peers this script started (by the pids it recorded) and remove .peers.env.
#   restart  stop, then start.
#   status   show what runs; exit 0 when every peer answers, 3 otherwise.
#   env      print .peers.env (for `set -a; . ./.peers.env; set +a` or `export $(…)`).
#   install  only install the packages.
#   clean    stop, then delete the state directory (certificates, files, logs).
#
# Environment (all optional):
#   GDHTTP_PEERS_STATE             state directory (default: <repo>/.cache/peers, git-ignored)
#   GDHTTP_PEERS_NGINX_PORT        18080    GDHTTP_PEERS_NGINX_TLS_PORT     18443
#   GDHTTP_PEERS_HTTPBIN_PORT      18081    GDHTTP_PEERS_PROXY_PORT         18888
#   GDHTTP_PEERS_PROXY_STRICT_PORT 18889    GDHTTP_PEERS_PROXY_AUTH_PORT    18890
#   GDHTTP_PEERS_NO_INSTALL=1  never call apt-get
#
# Endpoints and what each peer answers: scripts/peers/README.md.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
TEMPLATES=$ROOT/scripts/peers
STATE=${GDHTTP_PEERS_STATE:-$ROOT/.cache/peers}
ENV_FILE=$ROOT/.peers.env

NGINX_PORT=${GDHTTP_PEERS_NGINX_PORT:-18080}
NGINX_TLS_PORT=${GDHTTP_PEERS_NGINX_TLS_PORT:-18443}
HTTPBIN_PORT=${GDHTTP_PEERS_HTTPBIN_PORT:-18081}
PROXY_PORT=${GDHTTP_PEERS_PROXY_PORT:-18888}
PROXY_STRICT_PORT=${GDHTTP_PEERS_PROXY_STRICT_PORT:-18889}
PROXY_AUTH_PORT=${GDHTTP_PEERS_PROXY_AUTH_PORT:-18890}
# The auth proxy's only user (tinyproxy BasicAuth); the tests read it from .peers.env.
PROXY_AUTH_USER=gdhttp
PROXY_AUTH_PASSWORD=peer-secret

# Debian bookworm packages. tinyproxy-bin is the daemon without the init script; Debian's own
# python3 runs httpbin (a pyenv or venv python3 earlier on PATH lacks the Debian modules).
PACKAGES=(nginx tinyproxy-bin python3-httpbin python3-gunicorn curl openssl)
DEB_PYTHON=/usr/bin/python3
# Bump when the generated file tree changes, so existing trees are rebuilt.
FILES_VERSION=1

T0=$(date +%s%N)
log() {
	local now
	now=$(date +%s%N)
	printf '[peers %6.2fs] %s\n' "$(((now - T0) / 1000000))e-3" "$*" >&2
}
die() {
	printf 'peers.sh: error: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------------------------------------
# install

install_packages() {
	local missing=() p installed
	# One dpkg-query for all packages; a package dpkg has never seen is simply not listed.
	installed=" $(dpkg-query -W -f='${Package}=${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
		sed -n 's/=install ok installed$//p' | tr '\n' ' ' || true) "
	for p in "${PACKAGES[@]}"; do
		[[ $installed == *" $p "* ]] || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		log "packages: all installed (${PACKAGES[*]})"
		return 0
	fi
	if [[ ${GDHTTP_PEERS_NO_INSTALL:-} == 1 ]]; then
		die "missing packages: ${missing[*]} (GDHTTP_PEERS_NO_INSTALL=1 forbids apt-get)"
	fi
	command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get"
	local sudo=()
	if ((EUID != 0)); then
		if ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
			die "missing packages: ${missing[*]}; install them as root: apt-get install -y ${missing[*]}"
		fi
		sudo=(sudo -n)
	fi
	# Keep package maintainer scripts from starting system-wide services (nginx on :80): the
	# peers run under this script's control only. An existing policy-rc.d is left as it is.
	local policy=/usr/sbin/policy-rc.d made_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\n# temporary, written by gdhttp scripts/peers.sh\nexit 101\n' |
			"${sudo[@]}" tee "$policy" >/dev/null
		"${sudo[@]}" chmod 755 "$policy"
		made_policy=1
	fi
	log "packages: installing ${missing[*]}"
	local rc=0
	{
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
			"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				--no-install-recommends "${missing[@]}"
	} >"$STATE/logs/apt.log" 2>&1 || rc=$?
	if ((made_policy)); then
		"${sudo[@]}" rm -f "$policy"
	fi
	if ((rc != 0)); then
		tail -n 30 "$STATE/logs/apt.log" >&2
		die "apt-get failed (exit $rc); full log: $STATE/logs/apt.log"
	fi
	log "packages: installed"
}

# ---------------------------------------------------------------------------------------------
# generated content: file tree and certificates

# prng_file PATH SIZE IV: SIZE bytes of AES-128-CTR keystream (deterministic "random-ish" data).
prng_file() {
	head -c "$2" /dev/zero |
		openssl enc -aes-128-ctr -nosalt -K 676468747470207065657273206b6579 -iv "$3" >"$1.tmp"
	mv "$1.tmp" "$1"
}

make_files() {
	local www=$STATE/www static=$STATE/www/static
	if [[ -f $www/.version && $(<"$www/.version") == "$FILES_VERSION" ]]; then
		log "files: present ($static)"
		return 0
	fi
	rm -rf "$www"
	mkdir -p "$static"
	prng_file "$static/1k.bin" 1024 00000000000000000000000000000001
	prng_file "$static/1m.bin" 1048576 00000000000000000000000000000002
	prng_file "$static/64m.bin" 67108864 00000000000000000000000000000003
	: >"$static/empty.txt"
	seq 1 4000 | sed 's/.*/line &: the quick brown fox jumps over the lazy dog; gdhttp peers/' \
		>"$static/text.txt"
	{
		printf '{"name": "gdhttp", "items": ['
		seq -s ', ' 1 300
		printf '], "nested": {"ok": true, "text": "%s"}}\n' "$(printf 'abc%.0s' $(seq 1 100))"
	} >"$static/data.json"
	{
		printf '<!doctype html>\n<html><head><title>gdhttp peers</title></head><body>\n'
		seq 1 200 | sed 's|.*|<p>paragraph &: HTML is always gzip-compressed when asked.</p>|'
		printf '</body></html>\n'
	} >"$static/page.html"
	"$DEB_PYTHON" - "$static/image.png" <<'PY'
import struct, sys, zlib
w = h = 64
rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 4, y * 4, (x ^ y) * 4 & 255))
                for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY
	(cd "$static" && sha256sum 1k.bin 1m.bin 64m.bin empty.txt text.txt data.json page.html \
		image.png >SHA256SUMS)
	printf '<!doctype html>\n<title>gdhttp peers</title>\n<p>See scripts/peers/README.md.</p>\n' \
		>"$www/index.html"
	printf '%s\n' "$FILES_VERSION" >"$www/.version"
	log "files: generated ($static)"
}

make_tls() {
	local d=$STATE/tls
	mkdir -p "$d"
	if [[ -f $d/ca.pem && -f $d/ca.key ]] &&
		openssl x509 -checkend $((30 * 86400)) -noout -in "$d/ca.pem" >/dev/null 2>&1; then
		:
	else
		cat >"$d/ca.cnf" <<-'EOF'
			[req]
			distinguished_name = dn
			x509_extensions = v3_ca
			prompt = no
			[dn]
			CN = gdhttp peers test CA
			[v3_ca]
			basicConstraints = critical,CA:TRUE,pathlen:0
			keyUsage = critical,keyCertSign,cRLSign
			subjectKeyIdentifier = hash
		EOF
		openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-keyout "$d/ca.key" -out "$d/ca.pem" -days 3650 -config "$d/ca.cnf" 2>/dev/null
		rm -f "$d/server.pem"
		log "tls: new CA $d/ca.pem"
	fi
	if [[ -f $d/server.pem && -f $d/server.key ]] &&
		openssl x509 -checkend 86400 -noout -in "$d/server.pem" >/dev/null 2>&1 &&
		openssl verify -CAfile "$d/ca.pem" "$d/server.pem" >/dev/null 2>&1; then
		log "tls: certificates present ($d)"
		return 0
	fi
	cat >"$d/server.ext" <<-'EOF'
		basicConstraints = critical,CA:FALSE
		keyUsage = critical,digitalSignature
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
	EOF
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" 2>/dev/null
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile "$d/server.ext" \
		-out "$d/server.pem" 2>/dev/null
	chmod 600 "$d/ca.key" "$d/server.key"
	log "tls: new server certificate for localhost, 127.0.0.1, ::1"
}

# ---------------------------------------------------------------------------------------------
# processes

has_ipv6_loopback() {
	[[ -r /proc/net/if_inet6 ]] && grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# render TEMPLATE OUT KEY=VALUE...: replace each {{KEY}} by VALUE (literally).
render() {
	local src=$1 out=$2 content kv
	shift 2
	content=$(<"$src")
	for kv in "$@"; do
		content=${content//"{{${kv%%=*}}}"/"${kv#*=}"}
	done
	if [[ $content == *'{{'* ]]; then
		die "render $src: unreplaced placeholder: $(grep -o '{{[A-Z0-9_]*}}' <<<"$content" | head -1)"
	fi
	printf '%s\n' "$content" >"$out"
}

# pid_of NAME EXPECT: the pid recorded for NAME when that process is alive and its command line
# contains EXPECT; otherwise nothing (a stale pid file, or a pid reused by something else).
pid_of() {
	local f=$STATE/run/$1.pid pid
	[[ -f $f ]] || return 0
	pid=$(tr -dc '0-9' <"$f")
	[[ -n $pid && -r /proc/$pid/cmdline ]] || return 0
	if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"; then
		echo "$pid"
	fi
}

port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# stop_peers NAME:EXPECT:SIGNAL...: signal every recorded pid at once, wait up to 10 s for all of
# them, then SIGKILL what is left. Signals: nginx TERM (fast shutdown), gunicorn QUIT (quick
# shutdown, no graceful wait for idle keep-alive connections), tinyproxy TERM.
stop_peers() {
	local spec name expect sig pid i left
	local -A pids=()
	for spec in "$@"; do
		IFS=: read -r name expect sig <<<"$spec"
		pid=$(pid_of "$name" "$expect")
		if [[ -n $pid ]]; then
			kill "-$sig" "$pid" 2>/dev/null || true
			pids[$name]=$pid
		else
			rm -f "$STATE/run/$name.pid"
		fi
	done
	for ((i = 0; i < 100; i++)); do
		left=0
		for pid in "${pids[@]}"; do
			[[ -d /proc/$pid ]] && left=1
		done
		((left)) || break
		sleep 0.1
	done
	for name in "${!pids[@]}"; do
		pid=${pids[$name]}
		if [[ -d /proc/$pid ]]; then
			log "$name: still running after 10 s, SIGKILL $pid"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$STATE/run/$name.pid"
		log "$name: stopped (pid $pid)"
	done
}

# wait_for CMD...: run CMD until it succeeds, for up to 15 s.
wait_for() {
	local i
	for ((i = 0; i < 150; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# up_to_date NAME NEWFILE EXPECT SIGNAL: true when the peer runs with exactly the configuration
# in NEWFILE. Otherwise stops the peer (with SIGNAL), installs NEWFILE as the current
# configuration and returns false.
up_to_date() {
	local name=$1 new=$2 cur=$STATE/conf/$1.current expect=$3
	if [[ -n $(pid_of "$name" "$expect") ]] && cmp -s "$new" "$cur"; then
		rm -f "$new"
		log "$name: already running (pid $(pid_of "$name" "$expect"))"
		return 0
	fi
	stop_peers "$name:$expect:$4"
	mv "$new" "$cur"
	return 1
}

check_port_free() {
	if port_busy "$2"; then
		die "$1: port 127.0.0.1:$2 is taken by a process this script did not start; stop it or set $3"
	fi
}

start_nginx() {
	local c=$STATE/conf listen6_plain='# no IPv6 loopback' listen6_tls='# no IPv6 loopback' user
	if has_ipv6_loopback; then
		listen6_plain="listen [::1]:$NGINX_PORT;"
		listen6_tls="listen [::1]:$NGINX_TLS_PORT ssl;"
	fi
	user='# not root: workers keep the invoking user'
	if ((EUID == 0)); then
		# Workers as root, so the state directory may live under a private path such as /root.
		user='user root root;'
	fi
	render "$TEMPLATES/locations.conf" "$c/locations.conf.new" "STATE=$STATE" \
		"HTTPBIN_PORT=$HTTPBIN_PORT"
	render "$TEMPLATES/nginx.conf" "$c/nginx.conf.new" "STATE=$STATE" "PORT=$NGINX_PORT" \
		"TLS_PORT=$NGINX_TLS_PORT" "LISTEN6_PLAIN=$listen6_plain" "LISTEN6_TLS=$listen6_tls" \
		"USER_LINE=$user"
	cat "$c/nginx.conf.new" "$c/locations.conf.new" "$STATE/tls/server.pem" >"$c/nginx.all.new"
	if up_to_date nginx "$c/nginx.all.new" nginx TERM; then
		rm -f "$c/nginx.conf.new" "$c/locations.conf.new"
		return 0
	fi
	mv "$c/nginx.conf.new" "$c/nginx.conf"
	mv "$c/locations.conf.new" "$c/locations.conf"
	check_port_free nginx "$NGINX_PORT" GDHTTP_PEERS_NGINX_PORT
	check_port_free nginx "$NGINX_TLS_PORT" GDHTTP_PEERS_NGINX_TLS_PORT
	mkdir -p "$STATE/nginx-tmp"
	local nginx=(nginx -p "$STATE" -c "$c/nginx.conf" -e "$STATE/logs/nginx-error.log")
	"${nginx[@]}" -t -q 2>>"$STATE/logs/nginx-error.log" ||
		{ tail -n 20 "$STATE/logs/nginx-error.log" >&2; die "nginx: configuration test failed"; }
	"${nginx[@]}" 9>&- 2>>"$STATE/logs/nginx-error.log" ||
		{ tail -n 20 "$STATE/logs/nginx-error.log" >&2; die "nginx: failed to start"; }
	log "nginx: started on 127.0.0.1:$NGINX_PORT and :$NGINX_TLS_PORT (TLS)"
}

start_httpbin() {
	local c=$STATE/conf
	local args=(-m gunicorn --daemon --pid "$STATE/run/httpbin.pid"
		--bind "127.0.0.1:$HTTPBIN_PORT" --workers 2 --worker-class gthread --threads 8
		--timeout 120 --graceful-timeout 5 --keep-alive 65
		--access-logfile "$STATE/logs/httpbin-access.log"
		--error-logfile "$STATE/logs/httpbin.log" --chdir "$STATE"
		--pythonpath "$TEMPLATES" gdhttp_httpbin:app)
	# The wrapper's checksum is part of the recorded command, so editing it restarts httpbin.
	{
		printf '%s\n' "$DEB_PYTHON" "${args[@]}"
		cksum <"$TEMPLATES/gdhttp_httpbin.py"
	} >"$c/httpbin.new"
	if up_to_date httpbin "$c/httpbin.new" gunicorn QUIT; then
		return 0
	fi
	check_port_free httpbin "$HTTPBIN_PORT" GDHTTP_PEERS_HTTPBIN_PORT
	"$DEB_PYTHON" -c 'import httpbin, gunicorn' 2>/dev/null ||
		die "$DEB_PYTHON cannot import httpbin and gunicorn (python3-httpbin, python3-gunicorn)"
	"$DEB_PYTHON" "${args[@]}" 9>&- ||
		{ tail -n 20 "$STATE/logs/httpbin.log" >&2; die "httpbin: gunicorn failed to start"; }
	log "httpbin: started on 127.0.0.1:$HTTPBIN_PORT"
}

# start_proxy NAME PORT PORTVAR CONNECT_LINES [EXTRA_LINES]: EXTRA_LINES (the auth proxy's
# BasicAuth) are appended to the rendered file, so the other instances' files stay as they were.
start_proxy() {
	local name=$1 port=$2 c=$STATE/conf
	render "$TEMPLATES/tinyproxy.conf" "$c/$name.new" "STATE=$STATE" "NAME=$name" \
		"PORT=$port" "CONNECT_PORTS=$4" \
		"USER_LINES=# no User/Group: tinyproxy keeps the invoking user"
	if [[ -n ${5:-} ]]; then
		printf '%s\n' "$5" >>"$c/$name.new"
	fi
	if up_to_date "$name" "$c/$name.new" tinyproxy TERM; then
		return 0
	fi
	check_port_free "$name" "$port" "$3"
	tinyproxy -c "$c/$name.current" 9>&- 2>>"$STATE/logs/$name.log" ||
		{ tail -n 20 "$STATE/logs/$name.log" >&2; die "$name: tinyproxy failed to start"; }
	log "$name: started on 127.0.0.1:$port"
}

# ---------------------------------------------------------------------------------------------
# health checks (curl is one of the peers, so it checks the others)

curl_body() {
	curl -sS --max-time 5 --noproxy '*' "$@"
}

health() {
	local ca=$STATE/tls/ca.pem fail=0 got
	check() {
		local name=$1
		shift
		if wait_for "$@"; then
			log "health: $name ok"
		else
			log "health: $name FAILED: $*"
			fail=1
		fi
	}
	body_is_ok() { [[ $(curl_body "$@") == ok ]]; }
	check nginx body_is_ok "http://127.0.0.1:$NGINX_PORT/health"
	check nginx-tls body_is_ok --cacert "$ca" "https://127.0.0.1:$NGINX_TLS_PORT/health"
	if has_ipv6_loopback; then
		check nginx-ipv6 body_is_ok -g "http://[::1]:$NGINX_PORT/health"
		check nginx-tls-ipv6 body_is_ok -g --cacert "$ca" "https://[::1]:$NGINX_TLS_PORT/health"
	fi
	httpbin_ok() { curl_body -f "http://127.0.0.1:$HTTPBIN_PORT/get" | grep -q '"url"'; }
	check httpbin httpbin_ok
	proxy_ok() { [[ $(curl -sS --max-time 5 -x "http://127.0.0.1:$1" "$2" "${@:3}") == ok ]]; }
	check proxy proxy_ok "$PROXY_PORT" "http://127.0.0.1:$NGINX_PORT/health"
	check proxy-connect proxy_ok "$PROXY_PORT" "https://127.0.0.1:$NGINX_TLS_PORT/health" --cacert "$ca"
	check proxy-strict-connect proxy_ok "$PROXY_STRICT_PORT" \
		"https://127.0.0.1:$NGINX_TLS_PORT/health" --cacert "$ca"
	strict_refuses() {
		got=$(curl -s --max-time 5 -o /dev/null -w '%{http_connect}' \
			-x "http://127.0.0.1:$PROXY_STRICT_PORT" "https://127.0.0.1:$NGINX_PORT/" || true)
		[[ $got == 403 ]]
	}
	check proxy-strict-refuses strict_refuses
	local cred=$PROXY_AUTH_USER:$PROXY_AUTH_PASSWORD
	check proxy-auth proxy_ok "$PROXY_AUTH_PORT" "http://127.0.0.1:$NGINX_PORT/health" \
		--proxy-user "$cred"
	check proxy-auth-connect proxy_ok "$PROXY_AUTH_PORT" \
		"https://127.0.0.1:$NGINX_TLS_PORT/health" --cacert "$ca" --proxy-user "$cred"
	auth_refuses() {
		got=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
			-x "http://127.0.0.1:$PROXY_AUTH_PORT" "http://127.0.0.1:$NGINX_PORT/health" || true)
		[[ $got == 407 ]]
	}
	check proxy-auth-refuses auth_refuses
	return "$fail"
}

write_env() {
	local tmp=$ENV_FILE.tmp.$$
	{
		printf '# Written by scripts/peers.sh start on %s; removed by scripts/peers.sh stop.\n' \
			"$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		printf '# Read by internal/peers.Load; in a shell: set -a; . ./.peers.env; set +a\n'
		printf 'GDHTTP_NGINX=127.0.0.1:%s\n' "$NGINX_PORT"
		printf 'GDHTTP_NGINX_TLS=127.0.0.1:%s\n' "$NGINX_TLS_PORT"
		if has_ipv6_loopback; then
			printf 'GDHTTP_NGINX6=[::1]:%s\n' "$NGINX_PORT"
			printf 'GDHTTP_NGINX_TLS6=[::1]:%s\n' "$NGINX_TLS_PORT"
		fi
		printf 'GDHTTP_NGINX_CA=%s\n' "$STATE/tls/ca.pem"
		printf 'GDHTTP_NGINX_FILES=%s\n' "$STATE/www/static"
		printf 'GDHTTP_HTTPBIN=127.0.0.1:%s\n' "$HTTPBIN_PORT"
		printf 'GDHTTP_PROXY=127.0.0.1:%s\n' "$PROXY_PORT"
		printf 'GDHTTP_PROXY_STRICT=127.0.0.1:%s\n' "$PROXY_STRICT_PORT"
		printf 'GDHTTP_PROXY_AUTH=127.0.0.1:%s\n' "$PROXY_AUTH_PORT"
		printf 'GDHTTP_PROXY_AUTH_USER=%s:%s\n' "$PROXY_AUTH_USER" "$PROXY_AUTH_PASSWORD"
		printf 'GDHTTP_CURL=%s\n' "$(command -v curl)"
	} >"$tmp"
	mv "$tmp" "$ENV_FILE"
	log "env: wrote $ENV_FILE"
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_start() {
	install_packages
	for tool in nginx tinyproxy curl openssl; do
		command -v "$tool" >/dev/null || die "$tool not on PATH after install"
	done
	[[ -x $DEB_PYTHON ]] || die "$DEB_PYTHON missing"
	make_files
	make_tls
	start_httpbin
	start_nginx
	start_proxy proxy "$PROXY_PORT" GDHTTP_PEERS_PROXY_PORT \
		'# no ConnectPort: CONNECT to any port is allowed'
	start_proxy proxy-strict "$PROXY_STRICT_PORT" GDHTTP_PEERS_PROXY_STRICT_PORT \
		"ConnectPort $NGINX_TLS_PORT"
	start_proxy proxy-auth "$PROXY_AUTH_PORT" GDHTTP_PEERS_PROXY_AUTH_PORT \
		'# no ConnectPort: CONNECT to any port is allowed' \
		"BasicAuth $PROXY_AUTH_USER $PROXY_AUTH_PASSWORD"
	if ! health; then
		rm -f "$ENV_FILE"
		printf 'peers.sh: logs in %s/logs\n' "$STATE" >&2
		die "health check failed; .peers.env not written (run scripts/peers.sh stop to clean up)"
	fi
	write_env
	log "start: all peers ready"
}

cmd_stop() {
	rm -f "$ENV_FILE"
	stop_peers proxy-auth:tinyproxy:TERM proxy-strict:tinyproxy:TERM proxy:tinyproxy:TERM \
		nginx:nginx:TERM \
		httpbin:gunicorn:QUIT
	rm -f "$STATE"/conf/*.current
	log "stop: done"
}

cmd_status() {
	local rc=0 name expect pid
	for name in nginx:nginx httpbin:gunicorn proxy:tinyproxy proxy-strict:tinyproxy \
		proxy-auth:tinyproxy; do
		expect=${name#*:}
		name=${name%%:*}
		pid=$(pid_of "$name" "$expect")
		if [[ -n $pid ]]; then
			printf '%-13s running (pid %s)\n' "$name" "$pid"
		else
			printf '%-13s stopped\n' "$name"
			rc=3
		fi
	done
	if ((rc == 0)) && ! health 2>/dev/null; then
		echo 'health check failed (run scripts/peers.sh restart)'
		rc=3
	fi
	[[ -f $ENV_FILE ]] && printf 'env file: %s\n' "$ENV_FILE" || echo 'env file: absent'
	return "$rc"
}

main() {
	local cmd=${1:-}
	case $cmd in
	start | stop | restart | status | env | install | clean) ;;
	*)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
	if [[ $cmd == env ]]; then
		[[ -f $ENV_FILE ]] || die "$ENV_FILE absent: run scripts/peers.sh start"
		cat "$ENV_FILE"
		return 0
	fi
	mkdir -p "$STATE"/{conf,logs,run,tls}
	# One invocation at a time (several shells or test runners may call start together).
	exec 9>"$STATE.lock"
	flock -w 120 9 || die "another scripts/peers.sh holds $STATE.lock"
	case $cmd in
	install) install_packages ;;
	start) cmd_start ;;
	stop) cmd_stop ;;
	restart)
		cmd_stop
		cmd_start
		;;
	status) cmd_status ;;
	clean)
		cmd_stop
		rm -rf "$STATE"
		log "clean: removed $STATE"
		;;
	esac
}

main "$@"
