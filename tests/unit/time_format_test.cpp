#include "common/time_format.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace tl {
namespace {

TEST(TimeFormatTest, FormatsAndParsesRfc3339) {
  const auto t = parse_rfc3339("2026-11-27T18:04:14.107Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-11-27T18:04:14.107Z");
  EXPECT_EQ(parse_rfc3339("2026-11-27T18:04:14Z"), *t - std::chrono::milliseconds{107});
  EXPECT_EQ(parse_rfc3339("2026-11-27T20:04:14.107+02:00"), t);
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  EXPECT_FALSE(parse_rfc3339("2026-11-27"));
  EXPECT_FALSE(parse_rfc3339("2026-11-27T18:04:14.107Zjunk"));
}

// The hand-written parser must agree with the calendar on every shape the log writes.
TEST(TimeFormatTest, FastPathAgreesWithTheCalendar) {
  using namespace std::chrono;
  for (const char* text : {"1970-01-01T00:00:00.000Z", "2000-02-29T23:59:59.999Z", "2026-12-31T12:00:00.001Z",
                           "2100-03-01T00:00:00.500Z", "9999-12-31T23:59:59.999Z"}) {
    const auto t = parse_rfc3339(text);
    ASSERT_TRUE(t) << text;
    EXPECT_EQ(format_rfc3339(*t), text);
  }
  EXPECT_EQ(parse_rfc3339("2026-11-27T18:04:14.107Z")->time_since_epoch(), milliseconds{1795802654107});
  EXPECT_EQ(format_rfc3339(Timestamp{milliseconds{1795802654107}}), "2026-11-27T18:04:14.107Z");
  // Impossible dates and times, and near misses of the fixed shape.
  for (const char* text :
       {"2026-02-29T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-11-27T24:00:00.000Z",
        "2026-11-27T18:60:00.000Z", "2026-11-27T18:04:14.1a7Z", "2026-11-27 18:04:14.107Z"}) {
    EXPECT_FALSE(parse_rfc3339(text)) << text;
  }
}

// RFC 3339 §5.6: time-numoffset is time-hour (00-23) ":" time-minute (00-59). date.h shifted
// these by the impossible amount instead of refusing them.
TEST(TimeFormatTest, RefusesOffsetsOutOfRange) {
  for (const char* text :
       {"2026-11-27T18:04:14Z+99:99", "2026-11-27T18:04:14+99:99", "2026-11-27T18:04:14+24:00",
        "2026-11-27T18:04:14+00:60", "2026-11-27T18:04:14-24:00", "2026-11-27T18:04:14.107+0200",
        "2026-11-27T18:04:14+2:00", "2026-11-27T18:04:14", "2026-11-27T18:04:14.Z", "2026-11-27T18:04:60Z"}) {
    EXPECT_FALSE(parse_rfc3339(text)) << text;
    EXPECT_FALSE(parse_rfc3339_precise(text)) << text;
  }
  const auto t = parse_rfc3339("2026-11-27T18:04:14Z");
  // The largest offsets each way: local time 23:59 ahead of or behind UTC.
  EXPECT_EQ(parse_rfc3339("2026-11-28T18:03:14+23:59"), t);
  EXPECT_EQ(parse_rfc3339("2026-11-26T18:05:14-23:59"), t);
  EXPECT_EQ(parse_rfc3339("2026-11-27T18:04:14-00:00"), t);
}

// RFC 3339 §5.6 NOTE: "T" and "Z" may be lower case.
TEST(TimeFormatTest, AcceptsLowerCaseTAndZ) {
  const auto t = parse_rfc3339("2026-11-27T18:04:14.107Z");
  EXPECT_EQ(parse_rfc3339("2026-11-27t18:04:14.107z"), t);
  EXPECT_EQ(parse_rfc3339("2026-11-27t20:04:14.107+02:00"), t);
}

// time-secfrac = "." 1*DIGIT: any number of digits, kept at full precision.
TEST(TimeFormatTest, KeepsEveryFractionDigit) {
  using std::chrono::milliseconds;
  const Timestamp ms282 = *parse_rfc3339("2026-11-27T18:04:26.282Z");
  EXPECT_EQ(parse_rfc3339("2026-11-27T18:04:26.2Z"), ms282 - milliseconds{82});
  EXPECT_EQ(parse_rfc3339("2026-11-27T18:04:26.28Z"), ms282 - milliseconds{2});
  const auto exact = parse_rfc3339_precise("2026-11-27T18:04:26.282000000000000000000000Z");
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->floor, ms282);
  EXPECT_FALSE(exact->sub_ms);
  EXPECT_EQ(exact->ceil(), ms282);
  const auto inside = parse_rfc3339_precise("2026-11-27T18:04:26.28200000000000000000001Z");
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->floor, ms282);
  EXPECT_TRUE(inside->sub_ms);
  EXPECT_EQ(inside->ceil(), ms282 + milliseconds{1});
  const auto nines = parse_rfc3339_precise("2026-11-27T18:04:26.2829Z");
  ASSERT_TRUE(nines);
  EXPECT_EQ(nines->floor, ms282);  // never rounded to nearest: 26.2829 is not at or after 26.283
  EXPECT_EQ(nines->ceil(), ms282 + milliseconds{1});
}

}  // namespace
}  // namespace tl
