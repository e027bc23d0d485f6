/* login.h — the guarded part of LogInByAccount (rest.md "Login and sessions").
 *
 * Three rules:
 *  - Same cost whatever the name: an unknown account name is checked against a dummy
 *    password hash made at start with the same parameters as real ones, so the answer
 *    takes as long as a wrong password for a real account, and says the same thing.
 *  - The slow hash never runs on the loop thread: the call is deferred (zs_call_defer) and
 *    a hashing thread checks the password; the loop opens the session (its own write
 *    transaction) and answers when the verdict comes back. At most core.login-queue
 *    (default 64) logins wait for the hasher; beyond, 503 at once.
 *  - Throttling, by account name (known or not: the same rule, so it reveals nothing) and by
 *    client address (the gateway passes it): after core.login-free-failures (default 5)
 *    failures for a name, or core.login-address-free-failures (default 20) for an address,
 *    each further attempt must wait a delay that starts at 1 s and doubles with every
 *    failure, up to core.login-max-delay seconds (default 900). An attempt inside the delay
 *    is answered 429 (ID.1000, "too many failed logins ..., retry in N s") without checking
 *    the password. A success clears the name's count; an address's count is forgotten
 *    core.login-window seconds (default 900) after its last failure.
 * Loop thread only, except where said. */
#ifndef ZS_CORE_LOGIN_H
#define ZS_CORE_LOGIN_H
#include "service.h"

extern const zs_module_t login_module;

/* Runs LogInByAccount for `account` (the record of the name asked for, stolen; NULL when
 * the name is unknown). Returns what a handler returns: zs_call_deferred() once the check
 * is queued, or NULL with *error (429 throttled, 503 hasher busy). */
json_t *login_begin(zs_call_t *call, json_t *account, json_t **error);

#endif
