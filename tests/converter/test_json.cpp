#include <catch2/catch.hpp>

#include "readers/json.h"

using vitrt::conv::Json;
using vitrt::conv::JsonError;
using vitrt::conv::parse_json;

TEST_CASE("json: parses objects, arrays, literals and numbers", "[unit]") {
  Json v = parse_json(R"( {"a": [1, -2.5e2, 0, true, false, null], "b": {"c": "x"}, "big": 12345678901234} )");
  REQUIRE(v.is_object());
  REQUIRE(v.object.size() == 3);
  const Json* a = v.find("a");
  REQUIRE(a);
  REQUIRE(a->array.size() == 6);
  CHECK(a->array[0].is_integer);
  CHECK(a->array[0].integer == 1);
  CHECK(a->array[1].number == -250.0);
  CHECK_FALSE(a->array[1].is_integer);
  CHECK(a->array[2].integer == 0);
  CHECK(a->array[3].boolean);
  CHECK(a->array[4].is_bool());
  CHECK_FALSE(a->array[4].boolean);
  CHECK(a->array[5].is_null());
  CHECK(v.find("b")->find("c")->string == "x");
  CHECK(v.find("big")->integer == 12345678901234LL);
  CHECK(v.find("missing") == nullptr);
  CHECK(parse_json("[]").array.empty());
  CHECK(parse_json("{}").object.empty());
  CHECK(parse_json("\"\"").string.empty());
}

TEST_CASE("json: string escapes", "[unit]") {
  CHECK(parse_json(R"("a\"b\\c\/d\b\f\n\r\t")").string == "a\"b\\c/d\b\f\n\r\t");
  CHECK(parse_json(R"("\u0041\u00e9\u20AC")").string == "A\xC3\xA9\xE2\x82\xAC");
  // U+1F600 as a surrogate pair -> 4-byte UTF-8.
  CHECK(parse_json(R"("\ud83d\ude00")").string == "\xF0\x9F\x98\x80");
  CHECK(parse_json("\"caf\xC3\xA9\"").string == "caf\xC3\xA9");
}

TEST_CASE("json: rejects malformed documents", "[unit]") {
  const char* bad[] = {
      "",          "   ",        "{",          "[1,]",        "{\"a\":1,}",  "{\"a\" 1}",   "{a:1}",
      "[1 2]",     "01",         "1.",         ".5",          "-",           "1e",          "+1",
      "tru",       "nul",        "\"abc",      "\"\\x\"",     "\"\\u12\"",   "\"\\u12g4\"", "\"\\ud800\"",
      "\"\\udc00\"", "\"\\ud800\\u0041\"",      "\"a\nb\"",    "[1] 2",      "{\"a\":1,\"a\":2}", "1e999",
      "NaN",       "[\"a\",]",   "'a'"};
  for (const char* text : bad) {
    INFO(text);
    CHECK_THROWS_AS(parse_json(text), JsonError);
  }
}

TEST_CASE("json: errors give the byte offset", "[unit]") {
  try {
    parse_json("[1, 2, x]");
    FAIL("no error");
  } catch (const JsonError& e) {
    CHECK(e.offset == 7);
    CHECK(std::string(e.what()).find("at byte 7") != std::string::npos);
  }
  try {
    parse_json("{\"k\": 1, \"k\": 2}");
    FAIL("no error");
  } catch (const JsonError& e) {
    CHECK(e.offset == 9);
    CHECK(std::string(e.what()).find("duplicate key") != std::string::npos);
  }
}

TEST_CASE("json: nesting depth limit", "[unit]") {
  auto nested = [](int n) { return std::string(size_t(n), '[') + std::string(size_t(n), ']'); };
  CHECK_NOTHROW(parse_json(nested(64)));
  CHECK_THROWS_AS(parse_json(nested(65)), JsonError);
  CHECK_THROWS_AS(parse_json(nested(100000)), JsonError);  // no stack overflow
  CHECK_THROWS_AS(parse_json(R"({"a":{"b":1}})", 1), JsonError);
  CHECK_NOTHROW(parse_json(R"({"a":{"b":1}})", 2));
}

TEST_CASE("json: value budget bounds the parsed size", "[unit]") {
  auto zeros = [](size_t n) {  // [0,0,...]: n + 1 values
    std::string s = "[";
    for (size_t i = 0; i < n; ++i) s += i ? ",0" : "0";
    return s + "]";
  };
  CHECK_NOTHROW(parse_json(zeros(9), 64, 10));
  CHECK_THROWS_WITH(parse_json(zeros(10), 64, 10), Catch::Contains("more than 10 JSON values"));
  CHECK_THROWS_WITH(parse_json(R"({"a":1,"b":[2,3]})", 64, 4), Catch::Contains("JSON values"));
  // The default admits a real header's worth (10^4 tensors x ~10 values).
  CHECK_NOTHROW(parse_json(zeros(100000)));
  CHECK(vitrt::conv::kJsonMaxValues >= 1000000);
}
