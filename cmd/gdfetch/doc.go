// Command gdfetch is a curl-like command over gdhttp's HTTPRequest node
// (package httprequest): every node property and opt-in option has a flag,
// and what it prints is request_completed's four values — the result, the
// response code, the headers and the body.
//
//	gdfetch [flags] URL        one request (flags may follow the URL)
//	gdfetch demo               (or gdfetch alone) an in-process game backend and a tour
//	gdfetch serve [--port 8080] [--addr 127.0.0.1]
//	                           that backend alone, for Godot or curl to talk to
//	gdfetch help               the flags (also -h, --help; -V, --version: the version and
//	                           the User-Agent sent)
//
// The request runs one Process() call per frame, as Godot's main loop runs
// the node (with --threads, on the node's worker); frames follow each other
// at once while bytes flow and 1 ms apart when the connection is idle, so
// Godot's one-chunk-per-frame pacing costs little (200 MB over loopback to
// a file: 0.5–0.7 s in frames, 0.45 s with --threads; curl 0.7 s). The body goes to stdout
// as it arrives (or to -o FILE, download_file); a progress bar is drawn on
// stderr when stderr is a terminal, -s is not given and the body does not go
// to that terminal too (as curl: use -o or a pipe); a summary line
// ("* RESULT_SUCCESS (0) 200, …") follows on stderr, and a failure always
// prints its result and real cause there. -v prints the exact request bytes
// and the client status trace with timings; --json prints one JSON object.
//
// The bar shows the latest counts and the rate over the last second,
// redrawn at most 100 ms apart (stalls included), never wider than the
// terminal less one column (a narrow terminal gets a shorter bar, then fewer
// parts), and is erased before anything else is printed; under TERM=dumb it
// uses no escape sequence. With -C - or --threads it moves a
// download_chunk_size (--chunk-size) at a time: blocking reads fill whole
// chunks.
//
// As curl 7.88, a binary body is not written to a terminal: when stdout is
// a terminal and there is neither -o nor --json, a NUL byte in the first
// 2000 bytes of the body stops the transfer with 'Warning: Binary output
// can mess up your terminal. Use "-o -" to output it to your terminal
// anyway, or "-o FILE" to save to a file.' on stderr (not with -s), exit
// 23 (what came before the piece holding it was written; a binary file's
// first piece stops it before any byte; -c - still writes the cookie file).
// A NUL further on is written, as curl's. "-o -" writes it anyway; a pipe
// or a file gets every body.
//
// # Flags (curl's name, the Godot property)
//
//	    --url URL             the URL, as a flag; one URL a run: with a URL argument, or a
//	                          second --url, a usage error (exit 2), where curl fetches each
//	-X, --request METHOD      request's method (Godot's nine, in any case, sent upper-case as
//	                          Godot's Method enum has them; curl sends it as typed; -d makes it POST)
//	-H, --header LINE         custom_headers, repeatable, sent in order; curl's forms:
//	                          "Name;" an empty header, "Name:" none (for Host, User-Agent,
//	                          Accept, Accept-Encoding and Content-Length, which Godot's
//	                          request always has, an empty one), @FILE the file's lines
//	                          (@- standard input's), "" nothing (as curl: -H "$EXTRA"
//	                          with EXTRA empty). A Transfer-Encoding line is sent as
//	                          given, as Godot sends it: beside the Content-Length Godot adds,
//	                          with the body not encoded (a server then waits for chunks; -T -
//	                          sends a chunked body), where curl encodes the body
//	-d, --data DATA|@FILE     request_data (curl's rules: an @FILE's content — @- standard
//	                          input, read whole; -T - streams it — without CR/LF, each
//	                          line of up to 255 bytes cut at its first CR, LF or NUL, as
//	                          curl 7.88 reads it; a
//	                          literal value as given; -d and --data-binary values joined
//	                          with '&' in command-line order);
//	                          no Content-Type is added, as in Godot: pass -H; an empty body
//	                          (-d "") has no Content-Length, as Godot's (curl sends 0)
//	    --data-binary DATA|@FILE  request_data_raw, byte for byte
//	    --data-raw DATA       request_data as -d, but DATA as given: a leading '@' is data,
//	                          not a file's name; joined with the other data parts
//	    --data-urlencode [NAME]=CONTENT|[NAME]@FILE
//	                          a request_data part as curl 7.88 makes it: CONTENT (the text
//	                          after the first '=', or the bytes of FILE after the first '@'
//	                          when there is no '='; "-" standard input; the whole value
//	                          when it has neither) form-encoded — ALPHA, DIGIT and "-._~"
//	                          kept, a space '+', every other byte %XX — after "NAME=" when
//	                          NAME is not empty; joined with the -d, --data-binary and
//	                          --data-raw parts
//	-G, --get                 the -d, --data-binary, --data-raw and --data-urlencode data, joined, as the
//	                          URL's query ('?' or, after a query, '&'; before a fragment; a
//	                          URL without a path gets "/"), in a GET (HEAD with -I, the -X
//	                          method with -X); no data: the URL as given. Not with -F or -T
//	-F, --form NAME=VALUE|NAME=@FILE|NAME=<FILE
//	                          a multipart/form-data body (httprequest.Multipart, §7.2
//	                          opt-in): files streamed from disk; POST unless -X; the value
//	                          is sent as given, and curl's part options ;type= ;filename=
//	                          ;headers= ;encoder= are refused (exit 2): a part's headers
//	                          cannot be chosen (a file part goes as filename="its base
//	                          name", Content-Type: application/octet-stream; a field
//	                          with neither)
//	-T, --upload-file FILE    FILE as the body, streamed (RequestStream), Content-Length
//	                          its size (none for an empty file, as Godot sends an empty
//	                          body; curl sends 0); "-" standard input, chunked; PUT unless -X; a URL
//	                          whose path is empty or ends in / gets FILE's name, percent-
//	                          encoded, before the query (curl's rule).
//	                          Unlike curl, a body (-d, -F, -T) is sent whole before the
//	                          response is read, as Godot does (§1.7.11): a server that
//	                          answers early (413) and closes while the body is still
//	                          going ends the request with RESULT_CONNECTION_ERROR, exit 56,
//	                          where curl stops sending and shows the answer
//	-A, --user-agent UA       a User-Agent header instead of "GodotEngine/…"; an -H User-Agent
//	                          line wins (only that one is sent, as curl)
//	-u, --user USER:PASSWORD  "Authorization: Basic …" of USER:PASSWORD as given (not
//	                          percent-decoded, as curl's -u; a URL's user:password is
//	                          decoded); it wins over the URL's, and an -H Authorization line
//	                          wins over it ("Authorization:" sends none). curl asks for the
//	                          password when there is no ':'; gdfetch refuses it (exit 2).
//	                          Sent to the URL's origin only: a redirect to another host,
//	                          port or scheme drops it, as curl without --location-trusted
//	-e, --referer URL         "Referer: URL"; "" sends none; an -H Referer line wins.
//	                          curl's "URL;auto" (a new Referer on each redirect) is refused:
//	                          the node sends the same headers on every hop
//	-r, --range RANGE         "Range: bytes=RANGE", sent as given (curl does not check it
//	                          either); an -H Range line wins; with -C - a usage error (curl
//	                          lets -C win), since -C - sends its own Range
//	                          The custom lines go in curl's order after the -H lines:
//	                          Authorization, Range, User-Agent, Referer; Godot's node then
//	                          adds Accept-Encoding, Host, User-Agent (unless given) and Accept
//	-o, --output FILE         download_file; "-": stdout, a binary body to a terminal too (a FILE
//	                          that is the file stdout goes to, -o /dev/stdout > FILE, too).
//	                          Unlike curl: a download that fails or is interrupted leaves FILE
//	                          as it was (written to a temporary file, renamed on success); the
//	                          failure line says how many bytes were discarded; -C - keeps them
//	-O, --remote-name         -o with the URL's file name: the last segment of its path,
//	                          without the query and the fragment, as given (not decoded, as
//	                          curl), in the current directory; a URL whose path is empty or
//	                          ends in / has none: exit 23 before any request (curl's status).
//	                          Not with -o (exit 2)
//	-J, --remote-header-name  with -O, the file is named by the response's Content-Disposition
//	                          as curl 7.88 reads it: the first such line with a "filename="
//	                          parameter (lower case; filename*= is not read), its value up to
//	                          its closing quote (" or ') or, unquoted, to ';', after its last
//	                          '/' and '\' (a value ending in one: the URL's name); without one,
//	                          the URL's name, as -O (a URL without a name is then exit 23,
//	                          after the head). A name from the header never replaces a file:
//	                          one that exists (or appears meanwhile) is refused at the
//	                          response's head, before its body is read: exit 23 (curl's
//	                          "Failed to open the file NAME: File exists"), as an empty name
//	                          ("Remote filename has no length!"). The body is downloaded to a
//	                          part file of gdfetch's in the current directory (download_file
//	                          is set before the request; the name comes with the head), moved
//	                          to its name on success, removed on failure. Without -O no
//	                          effect, as curl's; with -i, -I or -C - a usage error (exit 2,
//	                          curl's words). Unlike curl: the final response names the file
//	                          (curl takes the first response, a followed 3xx included, whose
//	                          Content-Disposition has a filename); with --retry, the try
//	                          that is written; spaces at the value's end are lost (the node
//	                          delivers header lines stripped); under -f a refused response
//	                          creates no file (curl creates it empty); a Content-Disposition
//	                          without a filename before one with it is exit 23 as curl's, but
//	                          the URL's file is not created empty; and a failed transfer leaves
//	                          no partial file
//	    --create-dirs         make the missing directories of -o's (-O's) and -D's paths first, mode 0750
//	                          (less the umask), as curl's; they stay if the request fails;
//	                          one that cannot be made: exit 23
//	-C, --continue-at -       resume -o FILE (DoResumable: Range + If-Range, keep_partial_download,
//	                          append_to_download_file; exit 33 when a 206 does not continue the file);
//	                          a GET only: with -X (other than GET), -d, -F, -T or -I it is a usage
//	                          error (exit 2), where curl runs the request. It asks for no
//	                          compression (DoResumable's "Accept-Encoding: identity").
//	                          Unlike curl: the Range is sent only with gdfetch's own state file
//	                          (FILE.gdhttp-resume, kept by the run that was cut when the server
//	                          sent an ETag or a Last-Modified to check the file with): without it
//	                          the download starts over from byte 0 with no Range; a 200 answer to
//	                          the Range (the server ignored it, or If-Range failed) rewrites FILE
//	                          from the first byte and exits 0, where curl exits 33; and any other
//	                          answer (a 201, 204, 404…) is not written: FILE is left as it was,
//	                          exit 33 (22 with -f and a code of 400 or more), where curl without a
//	                          partial file writes it and exits 0. A server that caps the range
//	                          is asked for the rest, request after request: -m bounds them all
//	                          (exit 28) and --max-filesize the file (exit 63, FILE at most that
//	                          size); either way FILE and its state are kept for the next run
//	-L, --location            accepted, no effect: the node follows redirects (max_redirects):
//	                          Godot's, 301 and 302 with the method kept, to a Location that
//	                          starts with http://, https:// or "/"; a relative one ("b?x=1")
//	                          fails as in Godot (exit 56), where curl resolves it
//	                          (--rfc-redirects does too, and follows 303, 307 and 308)
//	    --max-redirs N        max_redirects (default 8, -1 no limit)
//	    --max-filesize BYTES  body_size_limit (k/M/G suffixes; default -1; 0 is no limit, as
//	                          curl's); with -f an error page over it is 63, as curl checks the
//	                          size first; with -C - it bounds FILE, not each request
//	-m, --max-time SECONDS    timeout (default 0: none); with -C - the whole run, every request
//	    --connect-timeout SECONDS
//	                          the longest each connection may take to be made (fractions taken,
//	                          to the millisecond, as curl): the node's client in STATUS_RESOLVING
//	                          or STATUS_CONNECTING — the name's resolution, the TCP connect, an
//	                          HTTPS proxy's CONNECT, the TLS handshake — counted from the
//	                          start of each connect (a redirect's too, as curl's). Past it the
//	                          request is canceled, as the node's timeout cancels one, and ends
//	                          RESULT_TIMEOUT, exit 28, with curl's "Resolving timed out after N
//	                          milliseconds" or "Connection timed out after N milliseconds" as
//	                          the cause (curl says "Failed to connect to H port P after N ms:
//	                          Timeout was reached" for the TCP connect and "SSL connection
//	                          timeout" for the handshake: the node's status does not tell them
//	                          apart). 0 (the default): none, where curl has 300 s; Godot's own
//	                          30 s per address remains. -m still bounds the whole request; with
//	                          --retry it is a timeout as any other
//	    --retry N             make a try that failed for a transient reason again, up to N more
//	                          times, as curl 7.88: a timeout (exit 28; an unresolved name, 6 or
//	                          5, too), a response code 408, 429, 500, 502, 503 or 504; a
//	                          refused connection with --retry-connrefused, any failure with
//	                          --retry-all-errors. Before each retry "Warning: Problem : timeout.
//	                          Will retry in 1 seconds. 2 retries left." on stderr (one line;
//	                          curl wraps it at 79 columns; not with -s). -m bounds each try.
//	                          Unlike curl: the body of a response that will be retried is not
//	                          read, so it reaches neither stdout nor -o FILE (curl writes it to
//	                          stdout, and truncates FILE: "Throwing away N bytes"); a try cut
//	                          mid-body has written its part to stdout, as curl's; -o FILE is
//	                          the last try's (a cut try leaves it as it was); with -C - a retry
//	                          resumes the file. A -F or -T - body is not sent again: no retry
//	    --retry-delay SECONDS the wait before a retry; 0 (the default, as curl 7.88): 1 s,
//	                          doubling after each retry, at most 10 minutes. A transient
//	                          response's Retry-After (seconds or an HTTP date) replaces it, as
//	                          curl 7.88's does whatever --retry-delay says
//	    --retry-max-time SECONDS  no retry once this long has passed since the first try
//	                          began, nor one that a Retry-After would take past it (0: none)
//	    --retry-connrefused   --retry retries a refused connection (exit 7) too
//	    --retry-all-errors    --retry retries any try that does not exit 0
//	    --compressed          accepted, no effect: accept_gzip is on by default
//	-N, --no-buffer           accepted, no effect: the body goes to stdout as it arrives, each
//	                          piece written at once (with -i it is held until the headers are out)
//	    --no-gzip             accept_gzip = false
//	    --chunk-size BYTES    download_chunk_size (default 65536)
//	    --threads             use_threads
//	-x, --proxy HOST[:PORT]   set_http_proxy and set_https_proxy, except for the hosts the
//	                          no-proxy list names (--noproxy, else NO_PROXY; as curl); -x ""
//	                          no proxy at all; USER:PASSWORD@HOST credentials are --proxy-user's
//	    --proxy-user U:P      proxy credentials (SetHTTPProxyCredentials…): Proxy-Authorization
//	                          on the proxy hop and the CONNECT only
//	    --noproxy LIST        hosts reached directly, with -x or the environment's proxies
//	                          (NO_PROXY's syntax, replaces NO_PROXY)
//	-b, --cookie DATA|FILE    cookie jar on (SetCookieJar): "a=1; b=2" for the URL's host,
//	                          or a curl (Netscape) cookie file to load (one that does not
//	                          exist yet is an empty jar; a malformed line is skipped, -v
//	                          names it; as curl); "" jar only
//	-c, --cookie-jar FILE     cookie jar on; its cookies written to FILE at the end (curl's format;
//	                          "-": stdout, after everything else printed there)
//
// The jar (-b, -c) is net/http/cookiejar's without a public suffix list
// (unlike curl with libpsl): a Domain attribute naming a multi-label public
// suffix such as co.uk is accepted, so one host under co.uk can set cookies
// for all of them. It keeps curl's limits: at most 50 cookies kept from one
// response (none from a response of more than 3000 Set-Cookie lines: the
// node's net/http parsing takes none there, curl keeps 50), none over 4096
// bytes (name and value), no Secure cookie from plain http except from
// localhost, and a Cookie line of at most 150 cookies and 8190 bytes;
// Max-Age is capped at 400 days (RFC 6265bis, as curl 8; curl 7.88 keeps
// any). A value in double quotes keeps them in the
// -c file and on the wire, as curl's does.
//
// Set-Cookie lines are read, and Cookie lines written, by net/http's rules
// (the node's, as http.Client's), which differ from curl 7.88's: a cookie
// whose value holds a backslash, a double quote that does not wrap it, or a
// byte above 0x7F, or whose name holds a space or such a byte, is dropped
// (curl keeps it); an attribute with white space around its '='
// ("Path = /a") is ignored; an Expires date in RFC 850's form ("Friday,
// 01-Jan-99 00:00:00 GMT") is not read, so the cookie lasts for the
// session; the __Secure- and __Host- name prefixes are not enforced; and a
// value with a space or a comma is sent in double quotes ("o x" where curl
// sends o x). The jar's rules differ too: a host-only cookie and a domain
// cookie of the same name, domain and path are one cookie (RFC 6265
// section 5.3; curl keeps both), Domain on an IP-address host must be that
// address, and cookies are sent in RFC 6265's order (longer paths first,
// then the oldest), so that a Cookie line over curl's limits keeps other
// cookies than curl's. With -b DATA ("a=1; b=2") the pairs go into the jar
// for the URL's host (curl sends the string as it is to every host and
// never writes it with -c), and the jar is on: Set-Cookie lines are kept
// (curl's -b DATA alone keeps none).
//
// Without -x, gdfetch uses the environment's proxies as curl does
// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY and the lower-case forms), with
// net/http's rules (SetProxyFromEnvironment): HTTP_PROXY in capitals counts
// unless REQUEST_METHOD is set, and localhost and loopback addresses are never
// proxied; ALL_PROXY is not read (curl reads it). With -x the no-proxy
// list still applies, by the same rules: when
// there is one, localhost and loopback addresses go direct too (curl sends
// them to -x's proxy unless the list names them).
//
//	    --cacert FILE         TLSOptions.client(trusted_chain)
//	-k, --insecure            TLSOptions.client_unsafe()
//	    --tls-name NAME       TLSOptions.client(…, common_name_override)
//	    --strict, --rfc-redirects, --brotli, --keep-alive, --drain, --in-place
//	                          the opt-in options (SetStrict, SetRFC9110Redirects,
//	                          SetAcceptBrotli, SetKeepAlive, SetDrainPerStep,
//	                          SetDownloadInPlace)
//	-i, --include             the result line, then the headers as Godot delivers them,
//	                          then the body (held until request_completed); with
//	                          -o FILE (-I too) the result line and headers still go to stdout
//	                          and FILE gets the body only (curl writes the headers into FILE)
//	-D, --dump-header FILE    -i's block — the result line, the headers as Godot delivers them,
//	                          an empty line — written to FILE (made or truncated; left empty
//	                          when no response came) at the end of the request, or with "-"
//	                          to stdout before the body (held as -i holds it; -i -D - prints
//	                          the block twice, as curl the headers). Unlike curl: the node
//	                          gives no status line, so the result line stands in for curl's
//	                          "HTTP/1.1 200 OK", and it delivers the final response's
//	                          headers only, where curl writes every redirect's too. Not
//	                          -D - with --json (its object holds the headers)
//	-I, --head                method HEAD, printed as -i; with -d, --data-binary, -F or -T a
//	                          usage error (exit 2), as curl's "only one HTTP request method";
//	                          with -X (curl -I -X GET) that method is sent and, as curl, no
//	                          body is printed or saved (-o FILE is left empty); but the node
//	                          reads it, so a body that fails (cut, reset, past --max-filesize)
//	                          fails the run, where curl reads none
//	-s, --silent              no progress bar, no summary
//	-S, --show-error          accepted, no effect (curl's -sS): failures are printed anyway
//	-v, --verbose             exact request bytes, status trace with timings
//	-V, --version             the version and the User-Agent sent (wire.DefaultUserAgent), then exit
//	    --json                one JSON object (none when no request starts: a usage
//	                          error, a bad URL, an unreadable file — Godot's request()
//	                          returns an error and request_completed never comes)
//	-w, --write-out FORMAT    FORMAT (@FILE: a file's content, @- standard input's) written
//	                          when the request has ended, as curl 7.88 writes it: the
//	                          variables %{http_code} and %{response_code} (000 for none),
//	                          %{size_download} (get_downloaded_bytes: body bytes as received,
//	                          compressed), %{time_total} and %{speed_download}, %{exitcode},
//	                          %{errormsg} (the real cause, "" on success), %{content_type},
//	                          %{url} (as given, no password), %header{NAME} (the first such
//	                          response header), %{stderr} and %{stdout} (where what follows
//	                          goes), and gdfetch's %{result} and %{result_name}
//	                          (request_completed's result); "\n", "\r", "\t" and "%%" as
//	                          curl. The node does not tell the URL after redirects or the
//	                          connection's timings: %{url_effective}, %{num_redirects},
//	                          %{time_connect} and any other name print nothing and are
//	                          reported on stderr, as curl reports a name it does not know
//	-f, --fail                exit 22 for a response code ≥ 400, with no body on stdout and
//	                          -o FILE left as it was: the request ends at the head (as curl's;
//	                          SetResponseFunc refuses it, so -i and --json show
//	                          RESULT_REQUEST_FAILED with the code), and a body below 400 streams
//	    --fail-with-body      exit 22 for a response code ≥ 400, the body written (stdout, -o FILE)
//	                          as any other; with -C - a code ≥ 400 is not written (DoResumable
//	                          keeps FILE), exit 22. Not with -f: exit 2, as curl 7.88
//
// Common curl flags gdfetch does not have (-Z, --http1.1 …)
// are usage errors (exit 2) whose
// message says what to use instead; curl 7.82's "--json DATA" is gdfetch's
// output flag, and the DATA is then refused as a second URL with a hint.
//
// # Exit status
//
// 0 for RESULT_SUCCESS; otherwise curl's number for the same failure:
//
//	result                              exit  curl's name
//	RESULT_SUCCESS                         0
//	RESULT_CHUNKED_BODY_SIZE_MISMATCH     18  CURLE_PARTIAL_FILE
//	RESULT_CANT_CONNECT                    7  CURLE_COULDNT_CONNECT
//	  … a fixed-length body cut short     18  CURLE_PARTIAL_FILE (Godot reports it as CANT_CONNECT)
//	  … the server ended the TLS          35  CURLE_SSL_CONNECT_ERROR (a FIN or a reset in the
//	    handshake (HandshakeEndError)           handshake, through a proxy's tunnel too)
//	  … the HTTPS proxy refused the       56  CURLE_RECV_ERROR (curl's "CONNECT tunnel failed"
//	    CONNECT, or ended it unanswered         and "Proxy CONNECT aborted"; also for a malformed
//	                                            reply, RESULT_CONNECTION_ERROR)
//	RESULT_CANT_RESOLVE                    6  CURLE_COULDNT_RESOLVE_HOST
//	  … the proxy's name (-x, environment) 5  CURLE_COULDNT_RESOLVE_PROXY
//	RESULT_CONNECTION_ERROR               56  CURLE_RECV_ERROR
//	  … closed before the response head   52  CURLE_GOT_NOTHING (nothing, or part of the status
//	    was complete (ErrPeerClosed)            line, arrived: curl's "Empty reply from server")
//	RESULT_TLS_HANDSHAKE_ERROR            35  CURLE_SSL_CONNECT_ERROR
//	  … the certificate failed            60  CURLE_PEER_FAILED_VERIFICATION (untrusted, another
//	    verification                            name, expired)
//	RESULT_NO_RESPONSE                    52  CURLE_GOT_NOTHING
//	RESULT_BODY_SIZE_LIMIT_EXCEEDED       63  CURLE_FILESIZE_EXCEEDED
//	RESULT_BODY_DECOMPRESS_FAILED         61  CURLE_BAD_CONTENT_ENCODING
//	RESULT_REQUEST_FAILED                  1  (only -T - through a redirect: stdin cannot be resent)
//	RESULT_DOWNLOAD_FILE_CANT_OPEN        23  CURLE_WRITE_ERROR
//	RESULT_DOWNLOAD_FILE_WRITE_ERROR      23  CURLE_WRITE_ERROR
//	  … stdout cannot be written          23  CURLE_WRITE_ERROR (a closed pipe: no death by SIGPIPE)
//	  … a binary body to a terminal       23  CURLE_WRITE_ERROR (curl's warning; -o - writes it)
//	RESULT_REDIRECT_LIMIT_REACHED         47  CURLE_TOO_MANY_REDIRECTS
//	RESULT_TIMEOUT                        28  CURLE_OPERATION_TIMEDOUT
//	a bad flag or argument                 2
//	a malformed URL                        3  CURLE_URL_MALFORMAT
//	a scheme other than http, https        1  CURLE_UNSUPPORTED_PROTOCOL
//	-d, -T, -F or -H @ file not readable  26  CURLE_READ_ERROR
//	--cacert FILE not readable, no PEM    77  CURLE_SSL_CACERT_BADFILE
//	--fail and a response code ≥ 400      22  CURLE_HTTP_RETURNED_ERROR (--fail-with-body too)
//	interrupted (Ctrl-C)                 130  death by SIGINT, which shells report as 130
//
// On Ctrl-C gdfetch cancels the request, cleans up (the partial -o file,
// -C -'s state, the bar), prints "gdfetch: interrupted", and then dies of
// SIGINT as curl does, so that a shell loop or a script stops (an exit(130)
// would tell the shell that gdfetch handled the interrupt); on Windows it
// exits 130. SIGTERM (kill, timeout(1), a service manager) and SIGHUP (a
// closed terminal) do the same, gdfetch dying of that signal; so does
// Ctrl-C while -d @- or -H @- waits for standard input to end. A signal
// gdfetch started with ignored (nohup's SIGHUP, a background job's SIGINT)
// stays ignored, as curl's. -i's temporary file (a held body past 1 MiB)
// is removed as soon as it is created, so that not even SIGKILL leaves it.
package main

// usage is the text of gdfetch --help.
const usage = `usage: gdfetch [flags] URL      one request through a Godot HTTPRequest node
       gdfetch demo               an in-process game backend and a tour (also: gdfetch alone)
       gdfetch serve [--port 8080] [--addr 127.0.0.1]   that backend alone
       gdfetch help               this text (also: -h, --help)

Flags may come after the URL. A URL without a scheme gets http://. Its user:password@ is sent
as curl sends it (Authorization: Basic, unless -u or -H gives one; Godot's node drops it). The URL
goes as Godot sends it (unlike curl): a space or a non-ASCII byte raw, a query needs a path
(http://h/?q, not http://h?q), an IPv6 host needs 4 characters ([::1] is refused; write
[0:0:0:0:0:0:0:1]) and is sent in Host without brackets; there is no globbing ([1-2] and
{a,b} are sent as they are, as curl -g). Godot's reading of a response
too: an HTTP/1.0 body without Content-Length or Connection: close is empty, and a status
line without any header line is RESULT_NO_RESPONSE (exit 52).

request
      --url URL               the URL as a flag (one URL a run: not with a URL argument; curl takes both)
  -X, --request METHOD        method: GET HEAD POST PUT DELETE OPTIONS TRACE CONNECT PATCH, in any
                              case, sent upper-case (Godot's Method enum; curl sends it as typed)
  -H, --header 'Name: value'  custom_headers; repeatable, sent in order; curl's 'Name;' (empty),
                              'Name:' (none; Godot's Host, User-Agent, Accept, Accept-Encoding,
                              Content-Length: sent empty) and @FILE (@- stdin); Transfer-Encoding
                              is sent as given, the body not encoded (as Godot; -T - is chunked)
  -d, --data DATA|@FILE       request_data (@FILE without its CR/LF; @- stdin); method POST unless -X;
                              no Content-Type is added; -d and --data-binary values are joined
                              with '&' in command-line order; -d "": no Content-Length (as Godot)
      --data-binary DATA|@FILE  request_data_raw, byte for byte
      --data-raw DATA         as -d, but DATA as given: a leading @ is data, not a file
      --data-urlencode [NAME]=CONTENT|[NAME]@FILE
                              request_data part with CONTENT (or FILE) form-encoded, as curl
  -G, --get                   the -d/--data-binary/--data-raw/--data-urlencode data as the URL's query, GET
                              (HEAD with -I); not with -F, -T
  -F, --form NAME=VALUE|NAME=@FILE|NAME=<FILE
                              multipart/form-data part, repeatable; files are streamed; POST unless -X;
                              curl's ;type= ;filename= ;headers= ;encoder= are refused (exit 2)
  -T, --upload-file FILE      FILE as the body, streamed (Content-Length: its size, none when 0;
                              - stdin, chunked);
                              PUT unless -X; a URL whose path is empty or ends in / gets FILE's name
                              (percent-encoded)
  -A, --user-agent UA         instead of Godot's "GodotEngine/<version> (<OS>)"; an -H User-Agent
                              line wins; -A "" sends an empty one (curl: none)
  -u, --user USER:PASSWORD    Authorization: Basic, as curl (as given, not decoded; no prompt: USER
                              alone is refused); wins over the URL's user:password; -H wins over it
  -e, --referer URL           Referer: URL ("" none; curl's ;auto refused: the node sends the same
                              headers on every hop)
  -r, --range RANGE           Range: bytes=RANGE (0-499, -500, 9500-), sent as given; not with -C -
node properties
  -o, --output FILE           download_file ("-o -", or the file stdout goes to: stdout, even a binary
                              body to a terminal: without -o one with a NUL byte is not written there,
                              exit 23, as curl); unlike curl a failed download leaves FILE as it
                              was, the bytes received discarded (-C - keeps them)
  -O, --remote-name           -o with the URL's file name (its last path segment, as given, no query)
                              in the current directory; a URL without one: exit 23, as curl
  -J, --remote-header-name    with -O: the name in the response's Content-Disposition filename=, as
                              curl 7.88 reads it (else the URL's); an existing file is not replaced:
                              exit 23 before the body is read; the final response's header (curl:
                              the first response with one, a redirect's too); not with -i, -I, -C -
      --create-dirs           make -o's and -D's missing directories first (0750, as curl)
  -C, --continue-at -         resume FILE from its size (Range + If-Range; state in FILE.gdhttp-resume);
                              unlike curl: without that state (the server sent no ETag nor
                              Last-Modified) FILE starts over from byte 0 (no Range), a 200 to the
                              Range rewrites FILE and exits 0 (curl: 33), and another answer (201,
                              404…) leaves FILE as it was, exit 33 (-f and 400 or more: 22);
                              a GET only (with -X, -d, -F, -T or -I: exit 2); a server capping
                              the range is asked for the rest: -m bounds every request (28),
                              --max-filesize FILE (63), FILE and its state kept
  -L, --location              (no effect: the node follows 301/302 redirects, up to --max-redirs; a
                              Location not starting with http(s):// or / fails, exit 56, as Godot)
      --max-redirs N          max_redirects (default 8; -1 no limit)
      --max-filesize BYTES    body_size_limit (k, M, G suffixes; default -1: none; 0: none, as curl);
                              with -C -: FILE's size, not each request's body
  -m, --max-time SECONDS      timeout (default 0: none); with -C -: the whole run, every request
      --connect-timeout SECONDS  each connection's resolve + TCP connect + proxy CONNECT + TLS
                              handshake (STATUS_RESOLVING/CONNECTING) within SECONDS, else canceled:
                              RESULT_TIMEOUT, exit 28, as curl (0, the default: none; curl: 300 s)
      --retry N               try again, up to N times, after a timeout (or unresolved name) or a
                              408/429/500/502/503/504, as curl ("Warning: Problem : …" on stderr,
                              not with -s); unlike curl the retried response's body is not written
                              (stdout, -o); -C - resumes; not with -F, -T - (no retry)
      --retry-delay SECONDS   wait before a retry (0: 1 s doubling, max 10 min); Retry-After wins
      --retry-max-time SECONDS  no retry after this long since the first try (0: none)
      --retry-connrefused     retry a refused connection too
      --retry-all-errors      retry after any failure
      --compressed            (no effect: accept_gzip is on, as in Godot)
  -N, --no-buffer             (no effect: the body is written as it arrives, unbuffered)
      --no-gzip               accept_gzip = false
      --chunk-size BYTES      download_chunk_size (default 65536; with -C - or --threads the
                              progress bar moves a chunk at a time: blocking reads fill whole chunks)
      --threads               use_threads
  -x, --proxy HOST[:PORT]     set_http_proxy + set_https_proxy (port 1080 by default), except for
                              the hosts --noproxy or NO_PROXY names (then loopback too goes direct);
                              without -x the environment's HTTP_PROXY/HTTPS_PROXY/NO_PROXY
                              (net/http's rules: no ALL_PROXY); -x "" no proxy; USER:PASS@HOST as
                              --proxy-user
      --proxy-user USER:PASS  proxy credentials: Proxy-Authorization to the proxy only
      --noproxy LIST          hosts reached directly (with -x too), NO_PROXY's syntax (replaces
                              NO_PROXY)
  -b, --cookie DATA|FILE      cookie jar on: "a=1; b=2" for the URL's host, or a curl
                              cookie file (missing: an empty jar); "" jar only (Godot sends no cookies)
  -c, --cookie-jar FILE       cookie jar on; write its cookies to FILE at the end
                              (no public suffix list: Domain=co.uk is accepted, unlike curl;
                              curl's limits: 50 cookies kept a response, 4096 bytes a cookie,
                              150 cookies and 8190 bytes a Cookie line)
      --cacert FILE           TLSOptions.client(trusted_chain from a PEM file)
  -k, --insecure              TLSOptions.client_unsafe()
      --tls-name NAME         TLSOptions.client(…, common_name_override)
opt-in options (off by default, Godot-identical when off)
      --strict                strict RFC 9110/9112 parsing
      --rfc-redirects         303/307/308 and RFC 9110 method rewriting
      --brotli                Accept-Encoding and decoding of "br"
      --keep-alive            keep the connection
      --drain                 read all available body bytes per frame
      --in-place              write download_file in place, not atomically
output
  -I, --head                  method HEAD, printed as -i (not with -d, --data-binary, -F, -T: exit 2);
                              with -X METHOD that method, still no body printed or saved
  -i, --include               result line ("RESULT_SUCCESS (0) 200"), headers as delivered, body;
                              with -o FILE (-I too) they still go to stdout, FILE gets the body
                              (curl: into FILE)
  -D, --dump-header FILE      -i's result line and headers to FILE ("-": stdout, before the body);
                              the result line stands for curl's status line, and only the final
                              response's headers are written (curl: every redirect's too)
  -s, --silent                no progress bar, no summary line (failures still print)
  -S, --show-error            (no effect: failures always print; for curl's -sS)
  -v, --verbose               the exact request bytes and the status trace with timings
  -V, --version               gdfetch's version and the User-Agent it sends
      --json                  request_completed's values as one JSON object (none when no
                              request starts: a usage error, a bad URL, an unreadable file)
  -w, --write-out FORMAT      printed at the end, as curl (@FILE: from a file): %{http_code}
                              %{response_code} %{size_download} %{time_total} %{speed_download}
                              %{exitcode} %{errormsg} %{content_type} %{url} %header{NAME}
                              %{stderr} %{stdout}; gdfetch's %{result} %{result_name}; \n \r \t %%
  -f, --fail                  exit 22 when the response code is 400 or more: the request ends at
                              the head (-i, --json: RESULT_REQUEST_FAILED), no body on stdout,
                              -o FILE left as it was
      --fail-with-body        exit 22 when the response code is 400 or more, the body still written
                              (stdout, -o FILE; not with -f)

exit status: 0 RESULT_SUCCESS; 6 CANT_RESOLVE (5 the proxy's name); 7 CANT_CONNECT; 18 partial body
(CHUNKED_BODY_SIZE_MISMATCH, or CANT_CONNECT for a fixed-length body cut short, as Godot reports
it); 23 DOWNLOAD_FILE_*, or stdout not writable (a closed pipe), or a binary body refused by a
terminal; 28 TIMEOUT;
35 TLS_HANDSHAKE_ERROR (60 when the certificate failed verification), or CANT_CONNECT when the
server ended the TLS handshake; 47 REDIRECT_LIMIT_REACHED;
52 NO_RESPONSE, or CONNECTION_ERROR closed before the response head ("empty reply");
56 CONNECTION_ERROR, or a CONNECT the HTTPS proxy refused or ended; 61 BODY_DECOMPRESS_FAILED;
63 BODY_SIZE_LIMIT_EXCEEDED; 2 bad flag; 3 bad URL; 1 a scheme other than http(s);
26 a -d/-T/-F/-H @ file not readable; 77 a --cacert FILE not readable or without a PEM
certificate; 22 --fail, --fail-with-body; 33 -C -: a 206 that does not continue the file; Ctrl-C: death by
SIGINT after cleanup (shells report 130), SIGTERM and SIGHUP alike.
`
