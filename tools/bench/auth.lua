-- wrk script: every request carries the session of ZS_SESSION.
wrk.headers["Authorization"] = "OAuth " .. os.getenv("ZS_SESSION")
