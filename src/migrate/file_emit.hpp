// Private to migration files: a small, deterministic YAML emitter used by file_render.cpp.
// The renderer builds a tree of YamlNode (maps keep their key order) and emit() writes it.
//
// Why not YAML::Emitter: the file is read and diffed by people, so the layout is chosen here
// (flow maps for one-line items, block maps for tables, comments above list items, literal
// blocks for multi-line SQL), and quoting is stricter than yaml-cpp's: every string that a
// YAML 1.1 or 1.2 reader would not read back as the same string (yes, no, on, off, null, ~,
// numbers, timestamps, leading indicators, ": ", " #", control characters) is double-quoted.
#pragma once

#include <string>
#include <vector>

namespace strata::migrate::detail::file {

struct YamlNode {
  enum class Kind {
    text,  // a string: plain when that reads back as the same string, else double-quoted
    sql,   // SQL text: always double-quoted, or a literal block (|) when it has several lines
    word,  // written as is: true, false, null, 42
    seq,
    map,
  };
  struct Entry;  // a key and its value, in a map
  struct Item;   // a value in a sequence, with an optional comment line above it

  Kind kind = Kind::text;
  std::string scalar;          // text, sql, word
  std::vector<Item> items;     // seq
  std::vector<Entry> entries;  // map
  bool flow = false;           // seq/map: one line ({a: 1}, [a, b]) when no string spans lines

  static YamlNode text(std::string s);
  static YamlNode sql(std::string s);
  static YamlNode word(std::string s);
  static YamlNode seq(bool flow);
  static YamlNode map(bool flow);

  // Appends to a sequence; comment (one line, without '#') is written above the item.
  YamlNode& add(YamlNode value, std::string comment = {});
  // Appends to a map. blank_line_before separates sections of a block map.
  YamlNode& set(std::string key, YamlNode value, bool blank_line_before = false);
};

struct YamlNode::Entry {
  std::string key;
  YamlNode value;
  bool blank_line_before = false;
};

struct YamlNode::Item {
  YamlNode value;
  std::string comment;
};

// The document for a block map: header comment lines (each written as "# line"), then root.
// Throws ArgumentError when a string is not valid UTF-8 (it could not be read back).
std::string emit(const std::vector<std::string>& header, const YamlNode& root);

}  // namespace strata::migrate::detail::file
