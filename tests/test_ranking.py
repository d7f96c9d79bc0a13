"""Ranking signals and result merging, on hand-made candidates."""

from semsearch.hits import SearchHit, group_hits, merge_overlapping
from semsearch.query import analyse, identifier_query, query_words, related
from semsearch.ranking import DEFAULT, Candidate, Ranking, home_first, rerank, with_options
from semsearch.roles import is_test_path, older_versions, role
from semsearch.search import field_path, parse_filters


def rank(text: str, items: list[Candidate], ranking: Ranking = DEFAULT) -> list[Candidate]:
    return rerank(analyse(text), items, ranking)


def asked(text: str) -> list[str]:
    return list(analyse(text).asked)


def compared(text: str) -> list[str]:
    return list(analyse(text).compared)


def cand(id: str, path: str, name: str = "f", code_type: str = "Function", score: float = 1.0,
         language: str = "python", struct: str | None = None) -> Candidate:
    return Candidate(id, {"name": name, "code_type": code_type, "language": language,
                          "context": {"file_path": path, "struct_name": struct}}, score=score)


def test_identifier_queries() -> None:
    assert identifier_query("HTTPException") == "HTTPException"
    assert identifier_query("count_indexed_points()") == "count_indexed_points"
    assert identifier_query("Client.get") == "get" and identifier_query("std::mem::swap") == "swap"
    assert identifier_query("how are routes registered") is None
    assert identifier_query("a-b") is None
    assert identifier_query("empty?") == "empty?" and identifier_query("Rack::Request#params!") == "params!"


def test_a_predicate_or_bang_method_is_an_identifier_too() -> None:
    items = [cand("prose", "lib/util.rb", name="blank_lines", score=1.0),
             cand("def", "lib/string.rb", name="blank?", code_type="Function", score=0.5, language="ruby")]
    assert [c.id for c in rank("blank?", items)][0] == "def"
    macro = [cand("other", "src/lib.rs", name="vector", score=1.0),
             cand("def", "src/macros.rs", name="vec", code_type="Macro", score=0.5, language="rust")]
    assert [c.id for c in rank("vec!", macro)][0] == "def"


def test_identifiers_written_inside_prose() -> None:
    assert asked("how safeParse returns a result without throwing") == ["safeParse"]
    assert asked("ZodType base class and the parse_input helper") == ["ZodType", "parse_input"]
    assert asked("z.transform and z.pipe for chaining") == ["transform", "pipe"]
    assert asked("how are routes registered") == []
    assert asked("HTTPException") == []  # the whole query is one: identifier_query's case


def test_identifiers_a_query_compares_against() -> None:
    uniq = "This method is like `_.uniqBy` except that it's designed and optimized for sorted arrays."
    assert compared(uniq) == ["uniqBy"] and asked(uniq) == []
    assert compared("The base implementation of `_.toNumber` which doesn't coerce") == ["toNumber"]
    assert compared("like `forEach` or `forEachRight` but from the right") == ["forEach", "forEachRight"]
    assert compared("how safeParse returns a result") == []
    # named once to compare and once as the subject: the subject wins
    assert compared("parseInput: like `parseInput` but async") == []


def test_the_definition_a_query_compares_against_comes_after_the_rest() -> None:
    items = [cand("compared", "a.js", name="uniqBy", score=1.0), cand("wanted", "b.js", name="sortedUniqBy", score=0.8)]
    query = "This method is like `_.uniqBy` except that it's optimized for sorted arrays."
    assert [c.id for c in rank(query, items)][0] == "wanted"
    assert [c.id for c in rank(query, items, with_options(compared=1.0))][0] == "compared"


def test_paths_by_role() -> None:
    for path in ("tests/test_x.py", "pkg/test_x.py", "src/foo_test.go", "web/app.spec.ts", "a/__tests__/b.js",
                 "src/test/java/com/x/FooTest.java", "spec/rack/etag_spec.rb", "pkg/conftest.py",
                 "Tests/AppTests/Helpers.swift", "src/Acme.Core.Tests/Fakes/Clock.cs", "fuzz/fuzz_targets/parse.rs",
                 "t/t3501-revert-cherry-pick.sh", "t/helper/test-date.c", "lib/Foo/t/basic.t",  # git's and Perl's t/
                 "gcc/testsuite/gcc.dg/pr1.c", "src/testdir/runtest.vim", "unittests/parser.cpp",
                 "src/testRunner/parallel/host.ts", "src/harness/fourslash.ts"):
        assert role(path) == "test", path
    assert role("examples/demo.py") == role("_examples/rest/main.go") == role("docs/conf.py") == "example"
    assert role("benches/parse.rs") == role("pkg/benchmarks/run.py") == "bench"
    assert role("perf/encode.js") == role("src/redis-benchmark.c") == role("Benchmarks/Run.cs") == "bench"
    assert role("Example/Source/AppDelegate.swift") == role("sandbox/Shared/Class1.cs") == "example"
    assert role("contrib/raftexample/raft.go") == role("example-app/main.ts") == role("hello_examples/a.rs") \
        == "example"  # a folder named as one example among others
    assert role("src/exampleparser/a.py") is None
    assert role("src/commonTest/kotlin/FlowTest.kt") == role("core/jvmTest/src/A.kt") == "test"
    assert role("src/latest/main.py") is None and role("lib/contest/x.py") is None
    assert role("tests-integration/tests/macros.rs") == role("integration_tests/a.py") == role("e2e/app.ts") == "test"
    assert role("src/testimony/a.py") is None and role("lib/attestation/x.go") is None
    assert role("src/t.c") is None and role("at/x.c") is None
    # Below a production source set the folders are a package's name: kotlin-test's own code.
    assert role("common/src/main/kotlin/kotlin/test/Assertions.kt") is None
    assert role("src/commonMain/kotlin/kotlin/test/Utils.kt") is None
    assert role("kotlinx-coroutines-test/jvm/src/main/A.kt") == role("src/main/kotlin/x/FooTest.kt") == "test"
    assert role("pkg/_compat.py") is None and role("pkg/compat/shim.py") == "compat"
    assert role("pkg/__init__.py") == role("src/index.ts") == role("com/x/package-info.java") == "reexport"
    assert role("types/index.d.ts") == "stub"
    assert role("pkg/gen.py", {"generated": True}) == "generated"
    assert role("src/parse.rs", {"test": True}) == "test"  # inside `#[cfg(test)] mod tests`
    assert role("single_include/nlohmann/json.hpp") == role("dist/amalgamation/sqlite3.c") == "generated"
    assert role("src/json_amalgamated.hpp") == "generated" and role("include/nlohmann/json.hpp") is None
    assert role("README.md", {"language": "markdown"}) == "prose"
    assert role("Cargo.toml", {"language": "toml"}) == "config"
    for path in ("internal/tree/node.go", "com/google/gson/internal/bind/X.java", "pydantic/_internal/_fields.py",
                 "serde/src/private/de.rs", "serde/src/__private/mod.rs", "include/nlohmann/detail/input.hpp",
                 "src/Polly.Core/Internal/Guard.cs"):
        assert role(path) == "internal", path
    for path in ("pkg/testing_tools.py", "src/contest.py", "latest/x.py", "src/attestation.rs", "src/privacy.rs",
                 "pkg/internals/x.py", "pkg/_fields.py", "App/Views/Details/DetailsView.swift"):
        assert role(path) is None, path
    assert is_test_path("examples/demo.py") and not is_test_path("pkg/compat/shim.py")


def test_query_words_are_one_per_concept() -> None:
    assert query_words("route grouping with sub-routers") == ["route", "grouping", "sub"]
    assert query_words("how does the JsonObject keep named fields") == ["json", "object", "keep", "named", "fields"]
    assert related("impls", "implementations") and related("utils", "utility") and related("route", "routing")
    assert not related("form", "format") and not related("path", "patch")


def test_definition_of_an_identifier_comes_first() -> None:
    ranked = rank("Router", [
        cand("use", "app.py", "make_app", score=0.9),
        cand("test", "tests/test_router.py", "Router", "Class", score=0.8),
        cand("member", "router.py", "add", "Method", score=0.7, struct="Router"),
        cand("def", "router.py", "Router", "Class", score=0.1),
    ], with_options(file_decay=1.0, file_evidence=0.0))
    assert [c.id for c in ranked] == ["def", "member", "test", "use"]  # the test is tier 1 but demoted


def test_among_several_definitions_the_file_named_after_it_comes_first() -> None:
    items = [cand("other", "sync/batch_semaphore.rs", "Semaphore", "Struct", score=0.9, language="rust"),
             cand("named", "sync/semaphore.rs", "Semaphore", "Struct", score=0.5, language="rust")]
    assert [c.id for c in rank("Semaphore", items)] == ["named", "other"]
    assert [c.id for c in rank("Semaphore", items, with_options(named_file=False))] == ["other", "named"]


def test_an_identifier_inside_a_prose_query_lifts_its_definition() -> None:
    items = [cand("near", "core/util.ts", "parseResult", score=1.0), cand("def", "core/parse.ts", "safeParse", score=0.85)]
    query = "how safeParse returns a result"
    assert [c.id for c in rank(query, items, with_options(embedded=0.0, stem=0.0))] == ["near", "def"]
    assert [c.id for c in rank(query, items, with_options(stem=0.0))] == ["def", "near"]


def test_tests_and_prose_yield_to_code_unless_asked_for() -> None:
    items = [cand("t", "tests/test_a.py", score=1.0), cand("doc", "README.md", score=1.0, language="markdown"),
             cand("code", "a.py", score=0.85)]
    assert rank("parse a header", items)[0].id == "code"
    assert rank("tests for parsing a header", items)[0].id == "t"


def test_internal_code_yields_to_the_public_api_unless_internals_are_asked_for() -> None:
    hidden = cand("hidden", "pydantic/_internal/_fields.py", name="collect_model_fields", score=1.0)
    public = cand("public", "pydantic/fields.py", name="Field", score=0.8)
    assert [c.id for c in rank("how are model fields declared", [hidden, public])] == ["public", "hidden"]
    assert [c.id for c in rank("how are model fields collected internally", [hidden, public])] == ["hidden", "public"]
    assert [c.id for c in rank("collect_model_fields", [hidden, public])][0] == "hidden"  # still its definition
    # an application keeping most of its code in internal/ has no public face to prefer
    app = [cand("engine", "internal/engine/run.go", score=1.0, language="go"),
           cand("cache", "internal/cache/lru.go", score=0.9, language="go"),
           cand("main", "cmd/tool/main.go", score=0.8, language="go")]
    assert [c.id for c in rank("how is work scheduled", app)][0] == "engine"
    assert [c.id for c in rank("how is work scheduled", app[::2])][0] == "main"  # half internal: demoted


def test_older_versioned_trees_are_superseded_by_their_newer_sibling() -> None:
    paths = {"v3/types.ts", "v4/core/schemas.ts", "api/v1/user.go", "api/v2/user.go", "api/v10/user.go",
             "lib/v2/only.go", "main.go"}
    assert older_versions(paths) == {"v3/types.ts", "api/v1/user.go", "api/v2/user.go"}
    assert older_versions({"v2/client.go", "client.go"}) == set()  # a Go module's v2 beside v1 at the root


def test_a_v1_folder_repeating_its_parents_files_is_the_older_copy() -> None:
    legacy = {"pydantic/main.py", "pydantic/v1/main.py", "pydantic/v1/fields.py", "pydantic/types.py"}
    assert older_versions(legacy) == {"pydantic/v1/main.py", "pydantic/v1/fields.py"}
    assert older_versions({"api/v1/users.py", "api/orders.py"}) == set()  # nothing repeated: the only version
    assert older_versions(legacy, v1_copies=False) == set()
    old = cand("old", "pydantic/v1/main.py", name="BaseModel", code_type="Class", score=1.0)
    new = cand("new", "pydantic/main.py", name="BaseModel", code_type="Class", score=0.99)
    assert [c.id for c in rank("BaseModel", [old, new])] == ["new", "old"]
    assert [c.id for c in rank("BaseModel", [old, new], with_options(v1_copies=False))] == ["old", "new"]


def test_a_deeper_copy_of_a_file_comes_after_the_original() -> None:
    """Guava's android/ tree mirrors guava/: the same method in files whose paths end alike."""
    main = "guava/src/com/google/common/cache/LocalCache.java"
    copy = cand("copy", "android/" + main, name="evictEntries", code_type="Method", score=1.0)
    orig = cand("orig", main, name="evictEntries", code_type="Method", score=0.95)
    other = cand("other", "guava/src/com/google/common/cache/CacheBuilder.java", name="build", score=0.9)
    assert [c.id for c in rank("cache eviction", [copy, orig, other])] == ["orig", "other", "copy"]
    assert [c.id for c in rank("cache eviction", [copy, orig, other], with_options(mirrors=False))][0] == "copy"
    # the same name in files alike at equal depth (a platform's variant) or ending alike in fewer parts: no copy
    jvm = cand("jvm", "jvm/src/kotlin/test/Assertions.kt", name="assertTrue", score=1.0)
    js = cand("js", "js/src/kotlin/test/Assertions.kt", name="assertTrue", score=0.95)
    assert [c.id for c in rank("assert true", [jvm, js, other])][:2] == ["jvm", "js"]
    shallow = cand("core", "db/models/fields.py", name="get_prep_value", score=0.9)
    deep = cand("gis", "contrib/gis/db/models/fields.py", name="get_prep_value", score=1.0, struct="GeometryField")
    assert [c.id for c in rank("prepare a value", [deep, shallow])][0] == "gis"


def test_the_current_version_comes_before_an_older_copy_unless_a_version_is_asked_for() -> None:
    old = cand("old", "v3/types.ts", name="ZodType", code_type="Class", score=1.0)
    new = cand("new", "v4/core/schemas.ts", name="ZodType", code_type="Interface", score=0.8)
    assert [c.id for c in rank("how the base type parses input", [old, new])] == ["new", "old"]
    assert [c.id for c in rank("how the v3 base type parses input", [old, new])] == ["old", "new"]
    assert [c.id for c in rank("how the base type parses input", [old, new], with_options(versions=False))] \
        == ["old", "new"]


def test_a_definition_in_an_older_copy_is_not_in_the_definitions_tier() -> None:
    items = [cand("old", "src/v3/ZodError.ts", name="ZodError", code_type="Class", score=1.0),
             cand("new", "src/v4/core/errors.ts", name="$ZodError", code_type="Interface", score=0.5),
             cand("stub", "types/errors.d.ts", name="ZodError", code_type="Class", score=0.9)]
    assert [c.id for c in rank("ZodError", items)][0] == "new"
    assert [c.id for c in rank("ZodError", items, with_options(copies_tier=False))][0] == "old"


def test_a_test_marked_inside_a_source_file_is_not_in_the_definitions_tier() -> None:
    in_file_test = cand("test", "src/parse.rs", name="parse", language="rust", score=1.0)
    in_file_test.payload["test"] = True  # a #[test] fn, as the chunker marks it
    library = cand("lib", "src/lib.rs", name="parse", language="rust", score=0.2)
    assert [c.id for c in rank("parse", [in_file_test, library])] == ["lib", "test"]


def test_a_deprecated_definition_comes_after_its_replacement_unless_deprecation_is_asked_for() -> None:
    old = cand("old", "pydantic/main.py", name="dict", code_type="Method", score=1.0, struct="BaseModel")
    old.payload["deprecated"] = True  # `@typing_extensions.deprecated(…)`, as the chunker marks it
    new = cand("new", "pydantic/main.py", name="model_dump", code_type="Method", score=0.9, struct="BaseModel")
    assert [c.id for c in rank("convert a model to a dictionary", [old, new])] == ["new", "old"]
    assert [c.id for c in rank("the deprecated way to convert a model to a dict", [old, new])] == ["old", "new"]
    assert [c.id for c in rank("convert a model to a dictionary", [old, new], with_options(deprecated=False))] \
        == ["old", "new"]
    assert [c.id for c in rank("dict", [old, new])][0] == "old"  # asked by name: still its definition first
    # a library marked obsolete as a whole: what matches is mostly deprecated, and is ranked as code
    obsolete = [cand(f"m{n}", f"Zip/Stream{n}.cs", name=f"Read{n}", code_type="Method", score=1.0 - n / 10,
                     language="csharp") for n in range(3)]
    for c in obsolete:
        c.payload["deprecated"] = True
    namespace = cand("ns", "Zip/Streams.cs", name="Streams", code_type="Module", score=0.75, language="csharp")
    assert [c.id for c in rank("read a stream", [*obsolete, namespace])][0] == "m0"


def test_soft_file_diversity() -> None:
    items = [cand("a1", "a.py", score=0.9), cand("a2", "a.py", score=0.8), cand("b1", "b.py", score=0.7),
             cand("a3", "a.py", score=0.6), cand("c1", "c.py", score=0.5)]
    plain = with_options(file_evidence=0.0, file_decay=0.8)
    # a2 counts 0.8*0.8=0.64 < b1's 0.7; a3 counts 0.6*0.64=0.384 < c1's 0.5
    assert [c.id for c in rank("x y", items, plain)] == ["a1", "b1", "a2", "c1", "a3"]
    assert [c.id for c in rank("x y", items, with_options(file_evidence=0.0, file_decay=1.0))] == \
        ["a1", "a2", "b1", "a3", "c1"]


def in_repo(repo: str, c: Candidate) -> Candidate:
    c.payload["repo"] = repo
    return c


def test_the_same_path_in_two_repositories_is_two_files() -> None:
    plain = with_options(file_evidence=0.0, file_decay=0.5)
    items = [in_repo("api", cand("a1", "src/lib.rs", score=0.9)), in_repo("cli", cand("b1", "src/lib.rs", score=0.8)),
             in_repo("api", cand("a2", "src/main.rs", score=0.7))]
    assert [c.id for c in rank("x y", items, plain)] == ["a1", "b1", "a2"]  # b1 is no further hit of a1's file
    alone = [cand("a1", "src/lib.rs", score=0.9), cand("b1", "src/lib.rs", score=0.8), cand("a2", "src/main.rs", score=0.7)]
    assert [c.id for c in rank("x y", alone, plain)] == ["a1", "a2", "b1"]


def test_one_repositorys_newer_version_does_not_make_anothers_older() -> None:
    old = in_repo("web", cand("old", "v3/types.ts", name="ZodType", code_type="Class", score=1.0))
    new = in_repo("schemas", cand("new", "v4/core/schemas.ts", name="ZodType", code_type="Interface", score=0.8))
    assert [c.id for c in rank("how the base type parses input", [old, new])] == ["old", "new"]
    same = in_repo("web", cand("new", "v4/core/schemas.ts", name="ZodType", code_type="Interface", score=0.8))
    assert [c.id for c in rank("how the base type parses input", [old, same])] == ["new", "old"]


def test_a_question_shows_another_file_before_a_further_hit_of_one_shown() -> None:
    items = [cand("a1", "a.py", score=0.9), cand("a2", "a.py", score=0.8), cand("b1", "b.py", score=0.6)]
    flat = with_options(file_evidence=0.0, question_file_evidence=0.0)
    # a2 counts 0.8 x 0.8 = 0.64 for other queries, 0.8 x 0.4 = 0.32 for a question: below b1's 0.6
    assert [c.id for c in rank("x handled", items, flat)] == ["a1", "a2", "b1"]
    assert [c.id for c in rank("how is x handled", items, flat)] == ["a1", "b1", "a2"]


def test_a_file_with_several_matches_lifts_its_best_hit() -> None:
    items = [cand("lone", "a.py", score=1.0), cand("b1", "b.py", score=0.98), cand("b2", "b.py", score=0.97),
             cand("b3", "b.py", score=0.96)]
    assert [c.id for c in rank("x y", items, with_options(file_evidence=0.0))][0] == "lone"
    assert [c.id for c in rank("x y", items)][0] == "b1"


def test_a_question_counts_weaker_hits_of_a_file_as_evidence() -> None:
    # one strong stray match against a file of four that all match a little less well
    items = [cand("lone", "a.py", score=1.0), *(cand(f"b{i}", "b.py", score=0.9 - 0.02 * i) for i in range(4))]
    assert [c.id for c in rank("x and y handled", items)][0] == "lone"
    assert [c.id for c in rank("how are x and y handled", items)][0] == "b0"
    assert [c.id for c in rank("Where are x and y handled?", items)][0] == "b0"


def test_a_question_lifts_a_file_of_several_hits_more_than_other_queries_do() -> None:
    items = [cand("lone", "a.py", score=1.0), cand("b1", "b.py", score=0.85), cand("b2", "b.py", score=0.83)]
    assert [c.id for c in rank("how is x handled", items)][0] == "b1"  # + 0.5 x e^(-0.17/0.15) = 0.16
    assert [c.id for c in rank("how is x handled", items, with_options(question_file_evidence=0.3))][0] == "lone"


def test_a_question_lifts_a_file_by_its_other_hits_not_by_its_best_hits_own_lead() -> None:
    # a lone hit that leads by a little against a file whose second hit also matches
    items = [cand("lone", "a.py", score=1.0), cand("b1", "b.py", score=0.96), cand("b2", "b.py", score=0.75)]
    assert [c.id for c in rank("how is x handled", items)][0] == "b1"
    assert [c.id for c in rank("how is x handled", items, with_options(question_own_evidence=1.0))][0] == "lone"
    assert [c.id for c in rank("x handled", items)][0] == "lone"  # other queries keep the leader's own evidence


def test_an_identifier_without_a_definition_still_names_its_file() -> None:
    items = [cand("other", "model.py", name="tokenize", score=1.0),
             cand("own", "tokenizer/tokenizer.py", name="turn_tokens_into_ids", score=0.95)]
    assert [c.id for c in rank("Tokenizer", items, with_options(file_evidence=0.0))][0] == "own"
    defined = [*items, cand("def", "api.py", name="Tokenizer", code_type="Class", score=0.5)]
    assert [c.id for c in rank("Tokenizer", defined)][0] == "def"  # a definition keeps its tier


def test_a_qualified_identifier_prefers_the_definition_on_its_qualifier() -> None:
    items = [cand("config", "config.lua", name="split", score=0.6, language="lua"),
             cand("stringx", "stringx.lua", name="split", code_type="Method", struct="stringx", score=0.5,
                  language="lua"),
             cand("list", "List.lua", name="split", code_type="Method", struct="List", score=0.9, language="lua")]
    assert [c.id for c in rank("stringx.split", items)][0] == "stringx"  # the member the query names on its module
    assert [c.id for c in rank("split", items)][0] == "config"  # unqualified: the plain function, as before
    assert [c.id for c in rank("List.split", items)][0] == "list"


def test_a_path_word_run_together_from_query_words_holds_them() -> None:
    """Go's and C's package and file names run words together: rafthttp is raft and http (an option)."""
    items = [cand("cluster", "etcdserver/api/membership/cluster.go", name="RaftCluster", score=1.0),
             cand("transport", "etcdserver/api/rafthttp/transport.go", name="Transport", score=0.9)]
    query, on = "how raft messages are sent over http", with_options(compounds=True)
    assert [c.id for c in rank(query, items, on)][0] == "transport"
    assert [c.id for c in rank(query, items)][0] == "cluster"  # off by default: a coin toss on the sets
    assert [c.id for c in rank("how raft works", items, on)][0] == "cluster"  # raft alone does not make rafthttp


def test_of_two_definitions_found_by_name_the_one_whose_file_the_search_found_comes_first() -> None:
    """Symfony's `Request`: BrowserKit's small class and HttpFoundation's, whose methods the lists hold."""
    items = [cand("method", "HttpFoundation/Request.php", name="getRequestUri", code_type="Method", score=0.4,
                  language="php"),
             cand("browserkit", "BrowserKit/Request.php", name="Request", code_type="Class", score=0.0,
                  language="php"),
             cand("foundation", "HttpFoundation/Request.php", name="Request", code_type="Class", score=0.0,
                  language="php")]
    assert [c.id for c in rank("Request", items)][:2] == ["foundation", "browserkit"]
    assert [c.id for c in rank("Request", items, with_options(named_inherit=0.0))][0] == "browserkit"


def test_a_companion_object_comes_after_its_class() -> None:
    """Scala's `object Option` beside `sealed abstract class Option` in Option.scala: the class is meant."""
    items = [cand("object", "library/scala/Option.scala", name="Option", code_type="Object", score=0.9,
                  language="scala"),
             cand("class", "library/scala/Option.scala", name="Option", code_type="Class", score=0.8,
                  language="scala"),
             cand("lone", "library/scala/Predef.scala", name="Predef", code_type="Object", score=0.7,
                  language="scala")]
    assert [c.id for c in rank("Option", items)][:2] == ["class", "object"]
    assert [c.id for c in rank("Option", items, with_options(companions=False))][0] == "object"
    assert [c.id for c in rank("Predef", items)][0] == "lone"  # an object with no class of its name


def test_a_qualifier_names_the_folder_of_a_package() -> None:
    """Go's package is its folder, as Java's, Python's and Rust's modules are: `output.Format` is the
    Format in output/, not one in a format.go elsewhere; a file named after the name there comes first."""
    items = [cand("elsewhere", "resources/images/format.go", name="Format", code_type="Type", score=0.9,
                  language="go"),
             cand("package", "output/outputFormat.go", name="Format", code_type="Struct", score=0.6, language="go"),
             cand("autoload", "lib/faraday/autoload.rb", name="Response", code_type="Class", score=0.9,
                  language="ruby"),
             cand("own", "lib/faraday/response.rb", name="Response", code_type="Class", score=0.6, language="ruby")]
    assert [c.id for c in rank("output.Format", items)][0] == "package"
    assert [c.id for c in rank("Format", items)][0] == "elsewhere"  # unqualified: the file named after it
    assert [c.id for c in rank("Faraday::Response", items)][0] == "own"  # in the folder and named after it


def hit(path: str, a: int, b: int, name: str = "x") -> SearchHit:
    return SearchHit(f"{path}:{a}", 1.0, {"name": name, "line_from": a, "line_to": b,
                                            "context": {"file_path": path, "module": path.split("/")[0]}})


def test_seed_merge_folds_overlapping_code_hits_and_keeps_the_rest() -> None:
    text = [hit("a.py", 10, 30), hit("b.py", 1, 5)]
    code = [hit("a.py", 25, 40), hit("a.py", 12, 14), hit("c.py", 1, 9), hit("b.py", 6, 9)]
    merged = merge_overlapping(text, code)
    assert [h.id for h in merged] == ["a.py:10", "b.py:1", "c.py:1", "b.py:6"]
    assert merged[0].overlap == [[12, 14], [25, 30]] and merged[0].found_by == "both"
    assert merged[1].overlap == [] and merged[1].found_by == "text"


def test_the_seed_merge_keeps_two_repositories_files_apart() -> None:
    text, code = [hit("src/lib.rs", 1, 20)], [hit("src/lib.rs", 5, 9)]
    text[0].payload["repo"], code[0].payload["repo"] = "api", "cli"
    merged = merge_overlapping(text, code)
    assert [h.id for h in merged] == ["src/lib.rs:1", "src/lib.rs:5"] and merged[0].overlap == []


def test_group_by_keeps_the_best_per_value() -> None:
    hits = [hit("m1/a.py", 1, 2, "a"), hit("m1/b.py", 1, 2, "b"), hit("m2/c.py", 1, 2, "c"),
            hit("m1/d.py", 1, 2, "d"), hit("m3/e.py", 1, 2, "e")]
    groups = group_hits(hits, "context.module", limit=2, group_size=2)
    assert [(g.value, [h.payload["name"] for h in g.hits]) for g in groups] == [("m1", ["a", "b"]), ("m2", ["c"])]


def test_group_by_folder_groups_each_hit_under_its_own_folder() -> None:
    hits = [hit("a/b/x.py", 1, 2, "x"), hit("a/y.py", 1, 2, "y"), hit("z.py", 1, 2, "z"), hit("a/b/w.py", 1, 2, "w")]
    groups = group_hits(hits, field_path("dir"), limit=5, group_size=3)
    assert [(g.value, [h.payload["name"] for h in g.hits]) for g in groups] == [
        ("a/b", ["x", "w"]), ("a", ["y"]), (".", ["z"])]


def test_filters_parse_with_aliases_and_repeats() -> None:
    matches = parse_filters(["language=python", "path=src/a.py", "language=rust", "context.module=db"])
    assert {(m.key, str(m.value)) for m in matches} == {
        ("language", "['python', 'rust']"), ("context.file_path", "src/a.py"), ("context.module", "db")}


def test_query_words_in_the_file_stem_lift_a_hit() -> None:
    items = [cand("util", "pkg/utils.py", score=1.0), cand("routing", "pkg/routing.py", score=0.9)]
    assert [c.id for c in rank("how are routes registered", items)] == ["routing", "util"]
    assert [c.id for c in rank("how are routes registered", items, with_options(stem=0.0))] == ["util", "routing"]


def test_from_inside_a_repository_its_own_ranking_leads_and_only_the_top_of_the_rest_joins_it() -> None:
    def hit(name: str, repo: str) -> SearchHit:
        return SearchHit(name, 1.0, {"repo": repo})

    own = [hit("a1", "a"), hit("a2", "a"), hit("a3", "a"), hit("a4", "a")]
    everywhere = [hit("b1", "b"), hit("a2", "a"), hit("c1", "c"), hit("b2", "b")]
    order = [h.id for h in home_first(own, everywhere, "a", factor=0.4)]
    # b1 (rank 1 of all) is placed at 2.5, c1 (rank 3) at 7.5; a2 comes once, from its own ranking
    assert order == ["a1", "a2", "b1", "a3", "a4", "c1", "b2"]
    assert [h.id for h in home_first(own, everywhere, "a", factor=1.0)][:3] == ["a1", "b1", "a2"]


def test_a_split_structure_is_one_hit() -> None:
    # git's `struct rev_info` is split into five parts: for `rev_info` they filled the first five
    # places, hiding revision.c; its best part stands for it now, and the other parts are dropped.
    def part(n: int, score: float) -> Candidate:
        c = cand(f"part{n}", "revision.h", name="rev_info", code_type="Struct", score=score)
        c.payload.update(part=n, parts=3, signature="struct rev_info")
        return c
    items = [part(1, 0.9), part(2, 0.8), part(3, 0.7), cand("use", "revision.c", name="setup_revisions", score=0.6)]
    assert [c.id for c in rank("rev_info", items)] == ["part1", "use"]
    assert [c.id for c in rank("rev_info", items, with_options(one_part=False))][:3] == ["part1", "part2", "part3"]
    # two long structures of one name in one file (overloads) are two hits
    other = cand("other", "revision.h", name="rev_info", code_type="Struct", score=0.5)
    other.payload.update(part=1, parts=3, signature="struct rev_info(int)")
    assert "other" in [c.id for c in rank("rev_info", items + [other])]
