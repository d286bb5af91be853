// parse(): migration-file text to a Migration (docs/migration-file-format.md). Called when the
// migrations folder is loaded. Accepts everything render() writes plus the defaults it leaves
// out; refuses anything else with MigrationFileError("path:line: message"), never guessing.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "strata/migrate/errors.hpp"
#include "strata/migrate/file.hpp"

#include "file_format.hpp"
#include "file_read.hpp"

namespace strata::migrate {
namespace {

using namespace detail::file;  // the checked readers (file_read.hpp) and the vocabulary

// One operation's fields, named after its kind ("create_index") in messages.
Fields op_fields(const FileReader& file, const YAML::Node& value, int line, std::string_view kind,
                 std::vector<std::string_view> known) {
  return Fields(file, value, line, std::string(kind), std::move(known));
}

schema::Column read_column(const FileReader& file, const YAML::Node& node, int line,
                           const std::string& owner) {
  const Fields f(file, node, line, owner,
                 {"name", "type", "nullable", "primary_key", "autoincrement", "server_default"});
  schema::Column c;
  c.name = read_string(f.need("name"));
  c.type = read_type(f.need("type"));
  if (auto v = f.get("nullable")) c.nullable = read_bool(*v);
  if (auto v = f.get("primary_key")) c.primary_key = read_bool(*v);
  if (auto v = f.get("autoincrement")) c.autoincrement = read_bool(*v);
  if (auto v = f.get("server_default")) c.server_default = read_optional_string(*v);
  return c;
}

schema::Column read_column(const Field& f) {
  return read_column(*f.file, f.value, f.line, "'" + f.key + "' of " + f.owner);
}

// The fields an index, a unique, a foreign key and a check share between the table entry
// (create_table's indexes: [...]) and their own operations (create_index: {...}).
schema::Index read_index(const Fields& f) {
  schema::Index ix;
  ix.name = read_string(f.need("name"));
  ix.columns = read_names(f.need("columns"));
  if (auto v = f.get("unique")) ix.unique = read_bool(*v);
  return ix;
}

schema::UniqueConstraint read_unique(const Fields& f) {
  return {read_string(f.need("name")), read_names(f.need("columns"))};
}

schema::ForeignKey read_foreign_key(const Fields& f) {
  schema::ForeignKey fk;
  fk.name = read_string(f.need("name"));
  fk.columns = read_names(f.need("columns"));
  fk.referred_table = read_string(f.need("referred_table"));
  fk.referred_columns = read_names(f.need("referred_columns"));
  if (auto v = f.get("on_delete")) fk.on_delete = read_action(*v);
  if (auto v = f.get("on_update")) fk.on_update = read_action(*v);
  return fk;
}

schema::CheckConstraint read_check(const Fields& f) {
  return {read_string(f.need("name")), read_string(f.need("sqltext"))};
}

const std::vector<std::string_view> kIndexFields = {"name", "columns", "unique"};
const std::vector<std::string_view> kUniqueFields = {"name", "columns"};
const std::vector<std::string_view> kForeignKeyFields = {
    "name", "columns", "referred_table", "referred_columns", "on_delete", "on_update"};
const std::vector<std::string_view> kCheckFields = {"name", "sqltext"};

// The same fields with "table" first: the operation form.
std::vector<std::string_view> on_table(const std::vector<std::string_view>& fields) {
  std::vector<std::string_view> out = {"table"};
  out.insert(out.end(), fields.begin(), fields.end());
  return out;
}

// Reads every item of a list of maps (a table's indexes, ...) with read(Fields).
template <class T, class Read>
std::vector<T> read_entries(const Field& f, std::string_view item_name,
                            const std::vector<std::string_view>& known, Read read) {
  std::vector<T> out;
  const std::string owner = std::string(item_name) + " of " + f.owner;
  for_each_item(f, std::string(item_name) + " maps", [&](const YAML::Node& item, int line) {
    out.push_back(read(Fields(*f.file, item, line, owner, known)));
  });
  return out;
}

schema::Table read_table(const FileReader& file, const YAML::Node& value, int line,
                         std::string_view kind) {
  const Fields f =
      op_fields(file, value, line, kind,
                {"name", "columns", "primary_key", "indexes", "uniques", "foreign_keys", "checks"});
  schema::Table t;
  t.name = read_string(f.need("name"));
  const Field columns = f.need("columns");
  const std::string column_owner = "column of " + std::string(kind);
  for_each_item(columns, "column maps", [&](const YAML::Node& item, int item_line) {
    t.columns.push_back(read_column(file, item, item_line, column_owner));
  });
  if (auto v = f.get("primary_key"); v && !v->value.IsNull()) {
    const Fields pk(file, v->value, v->line, "primary_key of " + std::string(kind),
                    {"name", "columns"});
    t.primary_key = {read_string(pk.need("name")), read_names(pk.need("columns"))};
  }
  if (auto v = f.get("indexes")) {
    t.indexes = read_entries<schema::Index>(*v, "index", kIndexFields, read_index);
  }
  if (auto v = f.get("uniques")) {
    t.uniques = read_entries<schema::UniqueConstraint>(*v, "unique", kUniqueFields, read_unique);
  }
  if (auto v = f.get("foreign_keys")) {
    t.foreign_keys =
        read_entries<schema::ForeignKey>(*v, "foreign key", kForeignKeyFields, read_foreign_key);
  }
  if (auto v = f.get("checks")) {
    t.checks = read_entries<schema::CheckConstraint>(*v, "check", kCheckFields, read_check);
  }
  return t;
}

// execute's sql and reverse: one statement for every dialect ("*"), or a map dialect: SQL.
std::map<std::string, std::string> read_statements(const Field& f) {
  if (f.value.IsScalar()) return {{"*", read_string(f)}};
  if (!f.value.IsMap()) {
    f.fail(
        "must be SQL text, or a map of dialect to SQL (sqlite: ..., postgresql: ..., \"*\": "
        "...); found " +
        found(f.value));
  }
  const Fields dialects(*f.file, f.value, f.line, "'" + f.key + "' of " + f.owner, {}, true);
  std::map<std::string, std::string> out;
  for (const Field& d : dialects.all()) {
    // Any dialect name may appear (for dialects added later), but a near miss of a known one
    // is a typo that would silently never run.
    const auto guess = closest(d.key, {"sqlite", "postgresql"});
    if (!is_dialect_key(d.key) || (guess && *guess != d.key)) {
      f.file->fail(d.line, "'" + single_line(d.key, 40) + "' in '" + f.key + "' of " + f.owner +
                               " is not a dialect name; " +
                               (guess ? "did you mean '" + std::string(*guess) + "'? " : "") +
                               "use sqlite, postgresql, or \"*\" for any dialect");
    }
    out[d.key] = read_string(d);
  }
  return out;
}

// The readers of each operation kind, from its value (the map under the kind's name).
struct OperationReader {
  const FileReader& file;
  const YAML::Node& value;
  int line;
  std::string_view kind;

  Fields fields(std::vector<std::string_view> known) const {
    return op_fields(file, value, line, kind, std::move(known));
  }
  // The fields of a table's part (an index, a constraint) and `table`; with not_valid, also
  // the flag `not_valid` (add_foreign_key, add_check).
  template <class Part, class Read>
  Part part(const std::vector<std::string_view>& known, std::string* table, Read read,
            bool* not_valid = nullptr) const {
    std::vector<std::string_view> names = on_table(known);
    if (not_valid) names.push_back("not_valid");
    const Fields f = fields(std::move(names));
    *table = read_string(f.need("table"));
    if (auto v = f.get("not_valid"); v && not_valid) *not_valid = read_bool(*v);
    return read(f);
  }

  void operator()(CreateTableOp& op) const { op.table = read_table(file, value, line, kind); }
  void operator()(DropTableOp& op) const { op.table = read_table(file, value, line, kind); }
  void operator()(RenameTableOp& op) const {
    const Fields f = fields({"old_name", "new_name"});
    op.old_name = read_string(f.need("old_name"));
    op.new_name = read_string(f.need("new_name"));
  }
  template <class Op>
  void read_column_at(Op& op) const {  // add_column, drop_column
    const Fields f = fields({"table", "position", "column"});
    op.table = read_string(f.need("table"));
    if (auto v = f.get("position"); v && !v->value.IsNull()) op.position = read_position(*v);
    op.column = read_column(f.need("column"));
  }
  void operator()(AddColumnOp& op) const { read_column_at(op); }
  void operator()(DropColumnOp& op) const { read_column_at(op); }
  void operator()(RenameColumnOp& op) const {
    const Fields f = fields({"table", "old_name", "new_name"});
    op.table = read_string(f.need("table"));
    op.old_name = read_string(f.need("old_name"));
    op.new_name = read_string(f.need("new_name"));
  }
  void operator()(AlterColumnOp& op) const {
    const Fields f = fields({"table", "before", "after"});
    op.table = read_string(f.need("table"));
    op.before = read_column(f.need("before"));
    const Field after = f.need("after");
    op.after = read_column(after);
    if (op.before.name != op.after.name) {
      file.fail(after.line, "alter_column changes one column, but 'before' names '" +
                                single_line(op.before.name, 40) + "' and 'after' names '" +
                                single_line(op.after.name, 40) +
                                "'; to rename a column use rename_column");
    }
  }
  template <class Op>
  void read_index_op(Op& op) const {  // create_index, drop_index
    std::vector<std::string_view> known = on_table(kIndexFields);
    known.push_back("concurrently");
    const Fields f = fields(std::move(known));
    op.table = read_string(f.need("table"));
    op.index = read_index(f);
    if (auto v = f.get("concurrently")) op.concurrently = read_bool(*v);
  }
  void operator()(CreateIndexOp& op) const { read_index_op(op); }
  void operator()(DropIndexOp& op) const { read_index_op(op); }
  void operator()(AddUniqueOp& op) const {
    op.constraint = part<schema::UniqueConstraint>(kUniqueFields, &op.table, read_unique);
  }
  void operator()(DropUniqueOp& op) const {
    op.constraint = part<schema::UniqueConstraint>(kUniqueFields, &op.table, read_unique);
  }
  void operator()(AddForeignKeyOp& op) const {
    op.foreign_key =
        part<schema::ForeignKey>(kForeignKeyFields, &op.table, read_foreign_key, &op.not_valid);
  }
  void operator()(DropForeignKeyOp& op) const {
    op.foreign_key = part<schema::ForeignKey>(kForeignKeyFields, &op.table, read_foreign_key);
  }
  void operator()(AddCheckOp& op) const {
    op.check = part<schema::CheckConstraint>(kCheckFields, &op.table, read_check, &op.not_valid);
  }
  void operator()(DropCheckOp& op) const {
    op.check = part<schema::CheckConstraint>(kCheckFields, &op.table, read_check);
  }
  void operator()(RenameConstraintOp& op) const {
    const Fields f = fields({"table", "old_name", "new_name"});
    op.table = read_string(f.need("table"));
    op.old_name = read_string(f.need("old_name"));
    op.new_name = read_string(f.need("new_name"));
  }
  void operator()(ValidateConstraintOp& op) const {
    const Fields f = fields({"table", "name"});
    op.table = read_string(f.need("table"));
    op.name = read_string(f.need("name"));
  }
  void operator()(ExecuteOp& op) const {
    const Fields f = fields({"sql", "reverse", "irreversible"});
    op.sql = read_statements(f.need("sql"));
    if (auto v = f.get("reverse"); v && !v->value.IsNull()) op.reverse = read_statements(*v);
    if (auto v = f.get("irreversible")) op.irreversible = read_bool(*v);
  }
  void operator()(CallOp& op) const {
    const Fields f = fields({"name", "reverse"});
    op.name = read_string(f.need("name"));
    if (auto v = f.get("reverse")) op.reverse = read_optional_string(*v).value_or("");
  }
};

Operation read_operation(const FileReader& file, const YAML::Node& item, int line) {
  constexpr std::string_view shape =
      "an operation is a map with one key, its name, holding its fields "
      "(e.g. '- create_index: {table: post, name: ix_post_user_id, columns: [user_id]}')";
  check_tag(file, item, line, "an operation");
  if (!item.IsMap() || item.size() != 1) {
    std::string what = found(item);
    if (item.IsMap() && item.size() == 0) what = "an empty map";
    if (item.IsMap() && item.size() > 1) {
      what = std::to_string(item.size()) + " keys:";
      for (const auto& entry : item) what += " " + found(entry.first);
      what += " (are the fields of the operation indented under its name?)";
    }
    file.fail(line, std::string(shape) + "; found " + what);
  }
  const auto entry = *item.begin();
  const int key_line = line_of(entry.first, line);
  check_tag(file, entry.first, key_line, "an operation name");
  if (!entry.first.IsScalar()) {
    file.fail(key_line, std::string(shape) + "; found " + found(entry.first) + " as its name");
  }
  const std::string& name = entry.first.Scalar();
  std::optional<Operation> op = make_operation(name);
  if (!op) {
    std::string message = "unknown operation '" + single_line(name, 40) + "'; ";
    if (const auto guess = closest(name, operation_names())) {
      message += "did you mean '" + std::string(*guess) + "'? ";
    }
    file.fail(key_line, message + "expected one of " + join(operation_names()));
  }
  std::visit(OperationReader{file, entry.second, key_line, kind_name(*op)}, *op);
  return *op;
}

// The operations of `upgrade` or `downgrade`; `atomic` is the migration's.
std::vector<Operation> read_operations(const Field& f, bool atomic) {
  std::vector<Operation> out;
  for_each_item(f, "operations", [&](const YAML::Node& item, int line) {
    out.push_back(read_operation(*f.file, item, line));
    if (atomic && is_concurrent(out.back())) {
      f.file->fail(line, std::string(kind_name(out.back())) +
                             " with 'concurrently: true' cannot run inside a transaction, and "
                             "this migration runs in one; add 'atomic: false' to the migration "
                             "(best in a migration of its own: it then commits each operation "
                             "as it goes)");
    }
  });
  return out;
}

std::string read_revision_id(const Field& f, const YAML::Node& node, int line) {
  const Field id{f.file, f.owner, f.key, node, line};
  std::string s = read_string(id);
  if (!is_revision_id(s)) {
    id.fail(
        "must be a revision id: up to " + std::to_string(revision_id_max) +
        " letters, digits and '_' (strata writes 12 hex digits); found " + found(node));
  }
  return s;
}

Migration read_migration(const FileReader& file, const YAML::Node& root) {
  const Fields f(
      file, root, 1, "the migration file",
      {"revision", "down_revision", "branch_labels", "message", "created", "lint_allow", "atomic",
       "replaces", "upgrade", "downgrade"});
  Migration m;
  const Field revision = f.need("revision");
  m.revision = read_revision_id(revision, revision.value, revision.line);
  if (auto v = f.get("down_revision"); v && !v->value.IsNull()) {
    if (v->value.IsSequence()) {
      for_each_item(*v, "revision ids", [&](const YAML::Node& item, int line) {
        std::string id = read_revision_id(*v, item, line);
        if (std::find(m.down_revisions.begin(), m.down_revisions.end(), id) !=
            m.down_revisions.end()) {
          file.fail(line, "'down_revision' lists '" + id + "' twice");
        }
        m.down_revisions.push_back(std::move(id));
      });
    } else {
      m.down_revisions.push_back(read_revision_id(*v, v->value, v->line));
    }
  }
  if (auto v = f.get("branch_labels")) {
    m.branch_labels = read_names(*v);
    for (const std::string& label : m.branch_labels) {
      if (!is_branch_label(label)) {
        v->fail("must hold labels of letters, digits, '_', '.' and '-'; found '" +
                single_line(label, 40) + "'");
      }
    }
  }
  if (auto v = f.get("message")) m.message = read_optional_string(*v).value_or("");
  if (auto v = f.get("created")) m.created = read_optional_string(*v).value_or("");
  if (auto v = f.get("lint_allow")) {
    const std::vector<std::string_view> rules(lint_rules.begin(), lint_rules.end());
    for (std::string& rule : read_names(*v)) {
      if (std::find(rules.begin(), rules.end(), rule) == rules.end()) {
        std::string message = "names an unknown lint rule '" + single_line(rule, 40) + "'; ";
        if (const auto guess = closest(rule, rules)) {
          message += "did you mean '" + std::string(*guess) + "'? ";
        }
        v->fail(message + "the rules are " + join(rules));
      }
      if (std::find(m.lint_allow.begin(), m.lint_allow.end(), rule) != m.lint_allow.end())
        v->fail("lists '" + rule + "' twice");
      m.lint_allow.push_back(std::move(rule));
    }
  }
  if (auto v = f.get("atomic")) m.atomic = read_bool(*v);
  if (auto v = f.get("replaces"); v && !v->value.IsNull()) {
    for_each_item(*v, "revision ids", [&](const YAML::Node& item, int line) {
      std::string id = read_revision_id(*v, item, line);
      if (id == m.revision) file.fail(line, "'replaces' lists the migration's own revision");
      if (std::find(m.replaces.begin(), m.replaces.end(), id) != m.replaces.end())
        file.fail(line, "'replaces' lists '" + id + "' twice");
      m.replaces.push_back(std::move(id));
    });
  }
  m.upgrade = read_operations(f.need("upgrade"), m.atomic);
  m.downgrade = read_operations(f.need("downgrade"), m.atomic);
  return m;
}

// The text must be UTF-8 without control characters (other than tab and line breaks) before
// yaml-cpp sees it: it would otherwise pass invalid bytes through into names and SQL.
void check_text(const FileReader& file, std::string_view text) {
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t at = i;
    const std::optional<char32_t> c = decode_utf8(text, i);
    const std::string column = std::to_string(at - line_start + 1);
    if (!c) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[at]));
      file.fail(line, "the file is not valid UTF-8 (byte " + std::string(byte) + " at column " +
                          column + "); migration files are UTF-8 text");
    }
    if ((*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r') || *c == 0x7F) {
      file.fail(line, "control character " + std::to_string(static_cast<unsigned>(*c)) +
                          " at column " + column +
                          "; migration files are text (write it as an escape such as \"\\x01\")");
    }
    if (*c == '\n') {
      ++line;
      line_start = i;
    }
  }
}

// The '{' or '[' still open at `end` (a byte offset) that yaml-cpp's "end of map/sequence
// flow not found" is about: yaml-cpp reports where it gave up, a line or more after the
// bracket the user left open. Brackets count where a flow collection can start (after ':',
// '-', ',', '?', another bracket, or at the start of a line), outside quotes and comments;
// closers only inside one. Returns the 1-based line and column, or nothing when not found.
std::optional<std::pair<int, int>> unclosed_bracket(std::string_view text, std::size_t end,
                                                    char open) {
  struct Open {
    char bracket;
    int line, column;
  };
  std::vector<Open> stack;
  int line = 1, column = 0;
  char previous = '\n';  // the last character other than a space or tab
  for (std::size_t i = 0; i < text.size() && i < end; ++i) {
    const char c = text[i];
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      previous = '\n';
      continue;
    }
    if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if ((c == '\'' || c == '"') && std::string_view(":-,?[{\n").find(previous) != std::string_view::npos) {
      for (++i; i < text.size() && i < end; ++i) {  // a quoted scalar, on one or more lines
        ++column;
        if (text[i] == '\n') {
          ++line;
          column = 0;
        } else if (c == '"' && text[i] == '\\') {
          ++i;
          ++column;
        } else if (text[i] == c) {
          if (c == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
            ++i;
            ++column;
          } else {
            break;
          }
        }
      }
      previous = c;
      continue;
    }
    if ((c == '{' || c == '[') && std::string_view(":-,?[{\n").find(previous) != std::string_view::npos) {
      stack.push_back({c, line, column});
    } else if ((c == '}' || c == ']') && !stack.empty()) {
      stack.pop_back();
    }
    if (c != ' ' && c != '\t') previous = c;
  }
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    if (it->bracket == open) return std::pair{it->line, it->column};
  }
  return std::nullopt;
}

[[noreturn]] void fail_malformed(const FileReader& file, const YAML::Exception& e,
                                 std::string_view text) {
  if (!e.mark.is_null() && (e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW ||
                            e.msg == YAML::ErrorMsg::END_OF_SEQ_FLOW)) {
    const char open = e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW ? '{' : '[';
    if (auto at = unclosed_bracket(text, static_cast<std::size_t>(e.mark.pos), open)) {
      file.fail(at->first, std::string("malformed YAML: this '") + open + "' (column " +
                               std::to_string(at->second) + ") is never closed with '" +
                               (open == '{' ? '}' : ']') + "'");
    }
  }
  const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
  const std::string column =
      e.mark.is_null() ? "" : " (column " + std::to_string(e.mark.column + 1) + ")";
  // yaml-cpp 0.7 gives DeepRecursion the message "bad file".
  if (const auto* deep = dynamic_cast<const YAML::DeepRecursion*>(&e)) {
    file.fail(line, "malformed YAML: nested more than " + std::to_string(deep->depth()) +
                        " levels deep" + column);
  }
  file.fail(line, "malformed YAML: " + e.msg + column);
}

// Records where each document starts; the first pass over the text only counts documents.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The one YAML document of the file. Not YAML::LoadAll: in yaml-cpp 0.7 it loops forever,
// allocating, when a token cannot start a node (a stray ',' as in ",", "- a\n,"): the parser
// reports an empty document without consuming the token (jbeder/yaml-cpp#1040, fixed upstream
// by #1319). So a first pass asks for at most three documents, and a document that starts
// where the previous one did is that stuck token.
YAML::Node load_document(const FileReader& file, const std::string& text) {
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (starts.marks.size() < 3 && parser.HandleNextDocument(starts)) {
      const std::size_t n = starts.marks.size();
      if (n >= 2 && starts.marks[n - 1].pos == starts.marks[n - 2].pos) {
        const YAML::Mark at = starts.marks[n - 1];
        const std::size_t pos = static_cast<std::size_t>(at.pos);
        const std::string what =
            pos < text.size() ? "'" + single_line(text.substr(pos, 1)) + "'" : "end of file";
        file.fail(at.line + 1, "malformed YAML: unexpected " + what + " (column " +
                                   std::to_string(at.column + 1) + ")");
      }
    }
    if (starts.marks.empty()) {
      file.fail(1,
                "the file is empty; a migration file is a map of revision, down_revision, "
                "message, created, upgrade and downgrade");
    }
    if (starts.marks.size() > 1) {
      file.fail(starts.marks[1].line + 1,
                "a second YAML document ('---'); a migration file holds one");
    }
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_malformed(file, e, text);
  }
}

}  // namespace

Migration parse(std::string_view text, std::string_view path) {
  const FileReader file{std::string(path)};
  check_text(file, text);
  const YAML::Node root = load_document(file, std::string(text));
  try {
    Migration m = read_migration(file, root);
    m.path = std::string(path);
    return m;
  } catch (const YAML::Exception& e) {
    // yaml-cpp refused a lookup the checks above should have ruled out: still a file error.
    file.fail(e.mark.is_null() ? 1 : e.mark.line + 1, "cannot read the file: " + e.msg);
  }
}

}  // namespace strata::migrate
