"""Which files a walk yields, and the reasons it gives for the rest."""

import os
from pathlib import Path


from semsearch.walk import WalkSummary, walk


def write(root: Path, rel: str, data: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def paths(root: Path, **kwargs) -> tuple[list[str], WalkSummary]:
    summary = WalkSummary()
    return [f.path for f in walk(root, summary=summary, **kwargs)], summary


def test_gitignore_semsearchignore_and_nested_rules(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.log\nsecret/\n!keep.log\n")
    write(tmp_path, ".semsearchignore", "generated_*.py\n")
    write(tmp_path, "app.py", "print(1)\n")
    write(tmp_path, "debug.log", "x\n")
    write(tmp_path, "keep.log", "x\n")
    write(tmp_path, "secret/key.py", "k = 1\n")
    write(tmp_path, "generated_api.py", "g = 1\n")
    write(tmp_path, "sub/.gitignore", "local.txt\n")
    write(tmp_path, "sub/local.txt", "x\n")
    write(tmp_path, "sub/mod.py", "m = 1\n")
    write(tmp_path, "other/local.txt", "kept: the rule is sub/'s own\n")
    found, summary = paths(tmp_path)
    assert found == ["app.py", "keep.log", "other/local.txt", "sub/mod.py"]
    assert summary.skipped["ignored"] == 4  # debug.log, secret/, generated_api.py, sub/local.txt


def test_vendored_build_and_vcs_folders_are_skipped(tmp_path: Path) -> None:
    for folder in ("node_modules/x", "target/debug", "dist", "build", "vendor/lib", "venv/lib", "pkg.egg-info",
                   "deps/jemalloc"):
        write(tmp_path, f"{folder}/file.js", "var a = 1;\n")
    write(tmp_path, "src/main.js", "var a = 1;\n")
    found, summary = paths(tmp_path)
    assert found == ["src/main.js"]
    assert summary.skipped["vendored or build folder"] == 8


def test_a_package_named_like_a_build_folder_is_code(tmp_path: Path) -> None:
    # hugo's deps/ and luarocks' build/ are packages of the code; redis's deps/ and Python's build/ are not
    write(tmp_path, "deps/deps.go", "package deps\n")
    write(tmp_path, "src/luarocks/build/builtin.lua", "local builtin = {}\n")
    write(tmp_path, "vendored/deps/jemalloc/src/arena.c", "int a;\n")
    write(tmp_path, "build/lib/pkg/mod.py", "a = 1\n")
    write(tmp_path, "web/build/bundle.js", "var a = 1;\n")
    found, summary = paths(tmp_path)
    assert found == ["deps/deps.go", "src/luarocks/build/builtin.lua"]
    assert summary.skipped["vendored or build folder"] == 3


def test_hidden_files_and_folders_only_when_asked(tmp_path: Path) -> None:
    write(tmp_path, ".git/config", "[core]\n")
    write(tmp_path, ".github/workflows/ci.yml", "on: push\n")
    write(tmp_path, ".eslintrc.js", "module.exports = {};\n")
    write(tmp_path, "app.py", "a = 1\n")
    found, summary = paths(tmp_path)
    assert found == ["app.py"] and summary.skipped["hidden"] == 3
    found, _ = paths(tmp_path, hidden=True)
    assert found == [".eslintrc.js", ".github/workflows/ci.yml", "app.py"]  # .git stays out


def test_binary_large_and_invalid_utf8(tmp_path: Path) -> None:
    write(tmp_path, "logo.png", b"\x89PNG\r\n")
    write(tmp_path, "blob.dat2", b"abc\x00def")
    write(tmp_path, "big.py", "x = 1\n" * 1000)
    write(tmp_path, "latin.py", b"name = 'caf\xe9'\n")
    write(tmp_path, "ok.py", "y = 2\n")
    found, summary = paths(tmp_path, max_bytes=2000)
    assert found == ["latin.py", "ok.py"]
    assert summary.skipped["binary or generated"] == 2
    assert summary.skipped["over 2,000 bytes"] == 1
    assert summary.invalid_utf8 == 1
    latin = next(f for f in walk(tmp_path) if f.path == "latin.py")
    assert latin.invalid_utf8 and "\ufffd" in latin.text


def test_images_source_maps_and_minified_text_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "docs/logo.svg", '<svg xmlns="http://www.w3.org/2000/svg"><path d="M12 2C6.48 2 2 6.48"/></svg>\n')
    write(tmp_path, "static/app.js.map", '{"version":3,"mappings":"AAAA"}\n')
    write(tmp_path, "static/site.min.css", "a{color:red}\n")
    write(tmp_path, "static/bundle.js", "var a=function(){return 1};" * 400)  # minified, no .min in its name
    write(tmp_path, "tests/fixtures/data.json", '{"k": [' + ", ".join(["1"] * 3000) + "]}\n")
    write(tmp_path, "src/app.js", "function add(a, b) {\n  return a + b;\n}\n" * 200)
    write(tmp_path, "src/Table.java", "class Table {\n  static final String DATA = \"" + "x" * 9000 + "\";\n}\n")
    found, summary = paths(tmp_path)
    assert found == ["src/Table.java", "src/app.js"]  # a class holding a long constant is still code
    assert summary.skipped["binary or generated"] == 3
    assert summary.skipped["minified or one-line data"] == 2


def test_symlink_loop_and_links_out_of_the_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write(root, "a/code.py", "a = 1\n")
    os.symlink(root / "a", root / "a" / "loop")
    outside = write(tmp_path, "outside.py", "o = 1\n")
    os.symlink(outside, root / "link_out.py")
    os.symlink(root / "a" / "code.py", root / "link_in.py")
    os.symlink(root / "missing.py", root / "dangling.py")
    found, summary = paths(root)
    assert found == ["a/code.py", "link_in.py"]
    assert summary.skipped["symlinked folder"] == 1
    assert summary.skipped["symlink out of the tree"] == 1
    assert summary.skipped["broken symlink"] == 1


def _walk_as_nobody(tree: str, conn) -> None:  # runs in a spawned child
    import json

    if os.geteuid() == 0:
        os.setgid(65534)
        os.setuid(65534)
    summary = WalkSummary()
    found = [f.path for f in walk(Path(tree), summary=summary)]
    conn.send(json.dumps([found, dict(summary.skipped)]))
    conn.close()


def test_unreadable_file_is_counted() -> None:
    """Root reads every file, so as root the walk runs in a spawned child that drops to `nobody`
    (spawned, not forked: a fork of this many-threaded process could deadlock)."""
    import json
    import multiprocessing
    import shutil
    import tempfile

    tree = Path(tempfile.mkdtemp(prefix="semsearch-unreadable-"))
    try:
        tree.chmod(0o755)
        write(tree, "ok.py", "a = 1\n").chmod(0o644)
        write(tree, "secret.py", "s = 1\n").chmod(0)
        write(tree, "locked/inner.py", "i = 1\n")
        (tree / "locked").chmod(0)
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_walk_as_nobody, args=(str(tree), send))
        child.start()
        assert receive.poll(120), "the child walk did not answer"
        found, skipped = json.loads(receive.recv())
        child.join(timeout=30)
        assert found == ["ok.py"]
        assert skipped["unreadable"] == 2  # the file and the folder, each counted, neither fatal
    finally:
        (tree / "locked").chmod(0o700)
        shutil.rmtree(tree)


def test_paths_are_relative_with_forward_slashes(tmp_path: Path) -> None:
    write(tmp_path, "a/b/c.go", "package b\n")
    (file,) = walk(tmp_path)
    assert file.path == "a/b/c.go" and file.abspath == tmp_path / "a/b/c.go"


def test_linguist_attributes_mark_generated_and_vendored_files(tmp_path: Path) -> None:
    write(tmp_path, ".gitattributes", "# GitHub linguist\napi/*.pb.go linguist-generated\n"
                                      "libs/** linguist-vendored=true\n*.snap linguist-generated -diff\n")
    write(tmp_path, "api/user.pb.go", "package api\n")
    write(tmp_path, "api/user.go", "package api\n")
    write(tmp_path, "libs/lib.js", "x()\n")
    write(tmp_path, "web/page.snap", "x\n")
    write(tmp_path, "web/.gitattributes", "*.snap -linguist-generated\n")  # the deeper file wins
    write(tmp_path, "web/other/a.snap", "x\n")
    write(tmp_path, "root.snap", "x\n")
    generated = {f.path: f.generated for f in walk(tmp_path)}
    assert generated == {"api/user.go": False, "api/user.pb.go": True, "root.snap": True,
                         "libs/lib.js": True, "web/other/a.snap": False, "web/page.snap": False}
