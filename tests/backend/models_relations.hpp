// The backend suite's models for relationships beyond many-to-one / one-to-many: the
// Mega-Tutorial's followers (a self-referential many-to-many through a table without a
// struct), articles and tags (many-to-many between two models), one-to-one (HasOne), and
// parents whose children go with them by cascade or by the database's ON DELETE.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "strata/strata.hpp"

struct Profile;
struct Card;

// followers(follower_id -> member.id, followed_id -> member.id)
inline const strata::AssociationTable followers{
    "followers", {"follower_id", "member.id"}, {"followed_id", "member.id"}};

struct Member {
  std::int64_t id = 0;
  std::string name{};
  strata::HasMany<Member> followed{};   // whom this member follows
  strata::HasMany<Member> followers{};  // who follows this member
  strata::HasOne<Profile> profile{};    // released (member_id NULL) when replaced
  strata::HasOne<Card> card{};          // deleted when replaced (delete-orphan)
};

// A nullable, unique foreign key: at most one profile per member.
struct Profile {
  std::int64_t id = 0;
  std::string bio{};
  std::optional<std::int64_t> member_id{};
  strata::BelongsTo<Member> member{};
};

// A required, unique foreign key: a card without its member is deleted.
struct Card {
  std::int64_t id = 0;
  std::string number{};
  std::int64_t member_id = 0;
  strata::BelongsTo<Member> member{};
};

template <>
struct strata::Model<Member> {
  static constexpr auto table = "member";
  static constexpr auto name = "Member";
  static auto columns() {
    return mapping(
        column("id", &Member::id).primary_key(), column("name", &Member::name).length(64),
        has_many("followed", &Member::followed)
            .secondary(followers, "follower_id", "followed_id")
            .back_populates(&Member::followers),
        has_many("followers", &Member::followers)
            .secondary(followers, "followed_id", "follower_id")
            .back_populates(&Member::followed),
        has_one("profile", &Member::profile).back_populates(&Profile::member),
        has_one("card", &Member::card).back_populates(&Card::member).cascade("all, delete-orphan"));
  }
};

template <>
struct strata::Model<Profile> {
  static constexpr auto table = "profile";
  static constexpr auto name = "Profile";
  static auto columns() {
    return mapping(
        column("id", &Profile::id).primary_key(), column("bio", &Profile::bio),
        column("member_id", &Profile::member_id).references(&Member::id).unique(),
        belongs_to("member", &Profile::member, &Profile::member_id).back_populates(&Member::profile));
  }
};

template <>
struct strata::Model<Card> {
  static constexpr auto table = "card";
  static constexpr auto name = "Card";
  static auto columns() {
    return mapping(column("id", &Card::id).primary_key(), column("number", &Card::number),
                   column("member_id", &Card::member_id).references(&Member::id).unique(),
                   belongs_to("member", &Card::member, &Card::member_id).back_populates(&Member::card));
  }
};

// Many-to-many between two models, with back_populates; ON DELETE CASCADE on the article
// side of the association table.
struct Tag;
inline const strata::AssociationTable article_tag{
    "article_tag",
    {"article_id", "article.id", strata::schema::ReferentialAction::cascade},
    {"tag_id", "tag.id"}};

struct Article {
  std::int64_t id = 0;
  std::string title{};
  strata::HasMany<Tag> tags{};
};

struct Tag {
  std::int64_t id = 0;
  std::string label{};
  strata::HasMany<Article> articles{};
};

template <>
struct strata::Model<Article> {
  static constexpr auto table = "article";
  static constexpr auto name = "Article";
  static auto columns() {
    return mapping(column("id", &Article::id).primary_key(), column("title", &Article::title),
                   has_many("tags", &Article::tags)
                       .secondary(article_tag, "article_id", "tag_id")
                       .back_populates(&Tag::articles));
  }
};

template <>
struct strata::Model<Tag> {
  static constexpr auto table = "tag";
  static constexpr auto name = "Tag";
  static auto columns() {
    return mapping(column("id", &Tag::id).primary_key(), column("label", &Tag::label),
                   has_many("articles", &Tag::articles)
                       .secondary(article_tag, "tag_id", "article_id")
                       .back_populates(&Article::tags));
  }
};

// A many-to-many relationship declared on one side only: Tag has no readers member, yet
// deleting a tag deletes its reader_favourite rows.
inline const strata::AssociationTable reader_favourite{
    "reader_favourite", {"reader_id", "reader.id"}, {"tag_id", "tag.id"}};
struct Reader {
  std::int64_t id = 0;
  std::string name{};
  strata::HasMany<Tag> favourites{};
};
template <>
struct strata::Model<Reader> {
  static constexpr auto table = "reader";
  static constexpr auto name = "Reader";
  static auto columns() {
    return mapping(column("id", &Reader::id).primary_key(), column("name", &Reader::name),
                   has_many("favourites", &Reader::favourites)
                       .secondary(reader_favourite, "reader_id", "tag_id"));
  }
};

// One-to-many with cascade("all, delete-orphan"): notes go with their folder.
struct Sheet;
struct Folder {
  std::int64_t id = 0;
  std::string name{};
  strata::HasMany<Sheet> notes{};
};
struct Sheet {
  std::int64_t id = 0;
  std::string text{};
  std::int64_t folder_id = 0;
  strata::BelongsTo<Folder> folder{};
};

template <>
struct strata::Model<Folder> {
  static constexpr auto table = "folder";
  static constexpr auto name = "Folder";
  static auto columns() {
    return mapping(column("id", &Folder::id).primary_key(), column("name", &Folder::name),
                   has_many("notes", &Folder::notes)
                       .back_populates(&Sheet::folder)
                       .cascade("all, delete-orphan"));
  }
};
template <>
struct strata::Model<Sheet> {
  static constexpr auto table = "sheet";
  static constexpr auto name = "Sheet";
  static auto columns() {
    return mapping(column("id", &Sheet::id).primary_key(), column("text", &Sheet::text),
                   column("folder_id", &Sheet::folder_id).references(&Folder::id),
                   belongs_to("folder", &Sheet::folder, &Sheet::folder_id).back_populates(&Folder::notes));
  }
};

// The database deletes the photos of a deleted album (ON DELETE CASCADE); the ORM does not
// load them (passive_deletes).
struct Photo;
struct Album {
  std::int64_t id = 0;
  std::string title{};
  strata::HasMany<Photo> photos{};
};
struct Photo {
  std::int64_t id = 0;
  std::string file{};
  std::int64_t album_id = 0;
};

template <>
struct strata::Model<Album> {
  static constexpr auto table = "album";
  static constexpr auto name = "Album";
  static auto columns() {
    return mapping(column("id", &Album::id).primary_key(), column("title", &Album::title),
                   has_many("photos", &Album::photos).cascade("all, delete-orphan").passive_deletes());
  }
};
template <>
struct strata::Model<Photo> {
  static constexpr auto table = "photo";
  static constexpr auto name = "Photo";
  static auto columns() {
    return mapping(column("id", &Photo::id).primary_key(), column("file", &Photo::file),
                   column("album_id", &Photo::album_id)
                       .references(&Album::id)
                       .on_delete(strata::schema::ReferentialAction::cascade));
  }
};

// The database sets the team of a deleted team's players NULL (ON DELETE SET NULL). A team's
// captain is a HasOne over the same, non-unique foreign key: two players make it ambiguous.
struct Player;
struct Team {
  std::int64_t id = 0;
  std::string name{};
  strata::HasMany<Player> players{};
  strata::HasOne<Player> captain{};  // over a foreign key that is not unique
};
struct Player {
  std::int64_t id = 0;
  std::string name{};
  std::optional<std::int64_t> team_id{};
};

template <>
struct strata::Model<Team> {
  static constexpr auto table = "team";
  static constexpr auto name = "Team";
  static auto columns() {
    return mapping(column("id", &Team::id).primary_key(), column("name", &Team::name),
                   has_many("players", &Team::players).passive_deletes(),
                   has_one("captain", &Team::captain).passive_deletes());
  }
};
template <>
struct strata::Model<Player> {
  static constexpr auto table = "player";
  static constexpr auto name = "Player";
  static auto columns() {
    return mapping(column("id", &Player::id).primary_key(), column("name", &Player::name),
                   column("team_id", &Player::team_id)
                       .references(&Team::id)
                       .on_delete(strata::schema::ReferentialAction::set_null));
  }
};

// An adjacency list with only the collection side (SQLAlchemy's basic example): a topic's
// subtopics, no reference back to the parent.
struct Topic {
  std::int64_t id = 0;
  std::string name{};
  std::optional<std::int64_t> parent_id{};
  strata::HasMany<Topic> subtopics{};
};

template <>
struct strata::Model<Topic> {
  static constexpr auto table = "topic";
  static constexpr auto name = "Topic";
  static auto columns() {
    return mapping(column("id", &Topic::id).primary_key(), column("name", &Topic::name).length(40),
                   column("parent_id", &Topic::parent_id).references(&Topic::id),
                   has_many("subtopics", &Topic::subtopics).foreign_key(&Topic::parent_id));
  }
};

// A collection without a back reference over a NOT NULL foreign key, without delete-orphan:
// letting go of an entry is refused (its key cannot become NULL).
struct Entry;
struct Ledger {
  std::int64_t id = 0;
  std::string name{};
  strata::HasMany<Entry> entries{};
  strata::HasOne<Entry> first{};  // over a foreign key that is not unique
};
struct Entry {
  std::int64_t id = 0;
  std::string text{};
  std::int64_t ledger_id = 0;
};

template <>
struct strata::Model<Ledger> {
  static constexpr auto table = "ledger";
  static constexpr auto name = "Ledger";
  static auto columns() {
    return mapping(column("id", &Ledger::id).primary_key(), column("name", &Ledger::name).length(40),
                   has_many("entries", &Ledger::entries), has_one("first", &Ledger::first));
  }
};
template <>
struct strata::Model<Entry> {
  static constexpr auto table = "entry";
  static constexpr auto name = "Entry";
  static auto columns() {
    return mapping(column("id", &Entry::id).primary_key(), column("text", &Entry::text).length(40),
                   column("ledger_id", &Entry::ledger_id).references(&Ledger::id));
  }
};

// Registers the models above with db (the fixture calls it beside its own models).
inline void register_relation_models(strata::Database& db) {
  db.register_models<Member, Profile, Card, Article, Tag, Reader, Folder, Sheet, Album, Photo,
                     Team, Player, Topic, Ledger, Entry>();
}
