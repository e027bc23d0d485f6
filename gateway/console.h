/* console.h — the web console: static files (gateway/console/) served under /console/.
 *
 * The console is a page that talks to the public REST API with the user's session; the
 * gateway only hands out its files. Only flat names of known types are served
 * ([A-Za-z0-9_.-]+ ending .html .js .css .svg .png, no '..', no sub-folders), each at most
 * CONSOLE_MAX_FILE bytes, with a Content-Security-Policy that allows nothing but the
 * gateway itself (no inline script, no other origin).
 *
 * Where the files are: `gateway.console-dir` (env ZS_GATEWAY_CONSOLE_DIR); by default
 * <exe>/../share/zs/console when it exists (an installed layout, /usr/local/bin +
 * /usr/local/share/zs/console), else the folder gateway/console of the source tree the binary
 * was built in (<exe>/../../gateway/console: build/bin/zs-gateway's layout). When the folder is
 * missing, /console/ answers 404 naming the folder it looked in.
 */
#ifndef ZS_GATEWAY_CONSOLE_H
#define ZS_GATEWAY_CONSOLE_H
#include <civetweb.h>

#define CONSOLE_MAX_FILE (4 * 1024 * 1024)

/* Resolves the console folder and installs the /console handler on `ctx`. Call once from
 * main() before serving (reads the configuration). */
void console_register(struct mg_context *ctx);

#endif
