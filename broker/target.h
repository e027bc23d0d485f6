/* target.h — where webhooks may go (rest.md "Webhook delivery"; the SSRF rules).
 *
 * A hook URL is parsed by libcurl's own URL parser (curl_url), the one that will use it, so
 * userinfo, odd ports or encodings cannot make the check see another host than curl
 * connects to. The address is checked again at connect time, on the address curl is about
 * to connect to (CURLOPT_OPENSOCKETFUNCTION): a name that resolves somewhere else later
 * (DNS change, rebinding) is judged by where it points then.
 *
 * Policy:
 *  - webhook.allow set (comma list of host names and IPv4/IPv6 CIDRs): only those — a
 *    listed name by the URL's host, a CIDR by the connect address;
 *  - unset (the default): any address except the private, loopback, link-local (cloud
 *    metadata included), shared (CGNAT), multicast and reserved ranges, IPv4 and IPv6
 *    (IPv4-mapped addresses judged as IPv4); webhook.allow-loopback = true (what the
 *    developer stack `make run` sets) lets loopback through as well.
 * Any thread (reads the configuration only). */
#ifndef ZS_BROKER_TARGET_H
#define ZS_BROKER_TARGET_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Checks a hook URL at submit: http/https, a host, and when the host is an IP address, the
 * policy. Writes the host (lower case, no brackets) to host[size] when given. NULL when
 * acceptable, else the reason (static text). */
const char *target_url_refusal(const char *url, char *host, size_t size);

/* May a hook whose URL names `host` connect to `addr`? true, or false with the reason in
 * why[size]. */
bool target_address_allowed(const char *host, const struct sockaddr *addr, char *why, size_t size);

#endif
