-- post.lua -- wrk script of tools/gateway-bench.sh: every request is a POST
-- of one fixed body, read once from the file in $BODY, with the
-- Content-Type in $CTYPE (default application/json) to the URL's path.
-- wrk counts non-2xx answers itself ("Non-2xx or 3xx responses").
local path = os.getenv("BODY")
local f = assert(io.open(path, "rb"), "BODY: cannot open " .. tostring(path))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("CTYPE") or "application/json"
