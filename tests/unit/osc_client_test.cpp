// parse_osc_endpoint (coordinator/control/osc_client.h): what `synthfarm ctl --osc` accepts.
// The exchange itself runs against a real instance in tests/process/osc_control_test.cpp.

#include <gtest/gtest.h>

#include "coordinator/control/osc_client.h"

namespace synthfarm {
namespace {

TEST(OscEndpoint, TakesAHostOrAddressAndAPort) {
  const auto v4 = parse_osc_endpoint("127.0.0.1:57130");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, "57130");
  EXPECT_EQ(parse_osc_endpoint("localhost:1")->host, "localhost");
  const auto v6 = parse_osc_endpoint("[::1]:65535");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "65535");
}

TEST(OscEndpoint, RefusesAMissingOrBadPortAndABareIpv6Address) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":57130", "host:0", "host:65536", "host:-1",
                          "host:57130x", "host:123456", "::1:57130", "[]:57130"}) {
    EXPECT_FALSE(parse_osc_endpoint(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace synthfarm
