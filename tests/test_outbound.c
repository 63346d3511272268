/* test_outbound.c -- which addresses outbound requests may reach. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "outbound.h"
#include "test.h"
#include "util.h"

/* What lp_addr_special says of the numeric address s ("" when public). */
static const char *special(const char *s)
{
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    const char *w;
    if (inet_pton(AF_INET, s, &a4.sin_addr) == 1)
        w = lp_addr_special((struct sockaddr *)&a4);
    else if (inet_pton(AF_INET6, s, &a6.sin6_addr) == 1)
        w = lp_addr_special((struct sockaddr *)&a6);
    else
        return "unparsed";
    return w ? w : "";
}

TEST(outbound_special_addresses)
{
    static const char *const cases[][2] = {
        {"127.0.0.1", "loopback"},
        {"127.255.255.254", "loopback"},
        {"10.0.0.1", "private"},
        {"172.16.0.1", "private"},
        {"172.31.255.255", "private"},
        {"192.168.0.1", "private"},
        {"100.64.0.1", "shared"},
        {"100.127.255.255", "shared"},
        {"169.254.169.254", "link-local"},
        {"0.0.0.0", "this network"},
        {"224.0.0.251", "multicast"},
        {"239.255.255.250", "multicast"},
        {"255.255.255.255", "reserved"},
        {"198.18.0.1", "benchmarking"},
        {"192.0.2.1", "documentation"},
        {"::1", "loopback"},
        {"::", "unspecified"},
        {"::ffff:127.0.0.1", "loopback"},
        {"::ffff:10.0.0.1", "private"},
        {"::ffff:169.254.1.1", "link-local"},
        {"64:ff9b::10.0.0.1", "private"},
        {"2002:7f00:1::", "loopback"},
        {"fc00::1", "unique local"},
        {"fdff::1", "unique local"},
        {"fe80::1", "link-local"},
        {"febf::1", "link-local"},
        {"fec0::1", "site-local"},
        {"ff02::1", "multicast"},
        {"2001:db8::1", "documentation"},
        {"::127.0.0.1", "IPv4-compatible"},
    };
    for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++) {
        const char *w = special(cases[i][0]);
        if (!strstr(w, cases[i][1])) CHECK_STR(w, cases[i][1]); /* names the address in the log */
    }
    /* Public unicast, including just outside the ranges above. */
    static const char *const public[] = {"8.8.8.8",        "93.184.216.34",   "172.32.0.1",
                                         "100.128.0.1",    "169.253.255.255", "11.0.0.1",
                                         "2606:4700::1",   "::ffff:8.8.8.8",  "64:ff9b::8.8.8.8",
                                         "2002:808:808::", "fbff::1",         "223.255.255.255"};
    for (size_t i = 0; i < LP_ARRAY_LEN(public); i++) CHECK_STR(special(public[i]), "");
}

TEST(outbound_urls)
{
    char why[400], host[256], addr[64];
    int port;
    lp_outbound_set_allow_private(0);
    CHECK_INT(lp_url_host_port("https://[::1]/x", host, sizeof host, &port, why, sizeof why), 0);
    CHECK_STR(host, "::1");
    CHECK_INT(port, 443);
    CHECK_INT(lp_url_host_port("ftp://x/", host, sizeof host, &port, why, sizeof why), LP_EINVAL);
    CHECK_INT(lp_outbound_check_url("http://127.1:8080/", why, sizeof why), LP_EINVAL);
    CHECK(strstr(why, "loopback") != NULL);
    CHECK_INT(lp_outbound_check_url("http://localhost/", why, sizeof why), 0); /* at delivery */
    CHECK_INT(lp_outbound_check_url("http://8.8.8.8/", why, sizeof why), 0);
    CHECK_INT(lp_outbound_resolve("http://localhost:1/", addr, sizeof addr, why, sizeof why),
              LP_EPERM);
    CHECK(strstr(why, "localhost resolves to") != NULL);
    CHECK_INT(lp_outbound_resolve("http://8.8.8.8:81/", addr, sizeof addr, why, sizeof why), 0);
    CHECK_STR(addr, "8.8.8.8");
    lp_outbound_set_allow_private(1);
    CHECK_INT(lp_outbound_check_url("http://127.0.0.1/", why, sizeof why), 0);
    CHECK_INT(lp_outbound_resolve("http://localhost:1/", addr, sizeof addr, why, sizeof why), 0);
    lp_outbound_set_allow_private(0);
}
