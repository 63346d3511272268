/* outbound.h -- which addresses Loupe's outbound requests (callbacks and
 * webhooks, outbox.c) may reach.
 *
 * Unless the admin starts the server with --allow-private-outbound, a
 * request goes only to public unicast addresses: never to loopback,
 * private (RFC 1918, unique local), link-local, shared (100.64/10),
 * multicast, documentation or other special-purpose ranges, nor to IPv6
 * forms that embed such an IPv4 address (mapped, NAT64, 6to4).  A URL
 * whose host is such a literal address is refused when it is registered;
 * a host name is resolved once at delivery, every address checked, and the
 * connection pinned to the checked address (outbox.c). */
#ifndef LP_OUTBOUND_H
#define LP_OUTBOUND_H

#include <stddef.h>
#include <sys/socket.h>

/* Set once at start-up, before any request (server.c). */
void lp_outbound_set_allow_private(int on);
int lp_outbound_private_allowed(void);

/* What is special about sa ("a loopback address"...), or NULL when it is a
 * public unicast address. */
const char *lp_addr_special(const struct sockaddr *sa);

/* The host and port of an http(s) URL: host without IPv6 brackets.
 * Returns 0, or LP_EINVAL with why filled. */
int lp_url_host_port(const char *url, char *host, size_t hostn, int *port, char *why, size_t whyn);

/* For a URL being registered: LP_EINVAL with why filled when its host is a
 * literal address outside the public ones and private outbound is not
 * allowed; 0 otherwise (host names are checked at delivery). */
int lp_outbound_check_url(const char *url, char *why, size_t whyn);

/* Resolves the URL's host once and checks every address.  On success
 * fills addr (numeric, for CURLOPT_RESOLVE) and returns 0; else LP_EPERM
 * (or LP_EINVAL/LP_ENOTFOUND) with why filled. */
int lp_outbound_resolve(const char *url, char *addr, size_t addrn, char *why, size_t whyn);

#endif
