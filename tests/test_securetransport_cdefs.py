"""The Secure Transport cdefs, checked on Linux against independent declarations of the same API.

No macOS runs here, so Apple's headers are not at hand.  Debian ships two
Rust crates that declare the same C API by hand: security-framework-sys
(``librust-security-framework-sys-dev``) and core-foundation-sys
(``librust-core-foundation-sys-dev``).  This test fetches them with
``apt-get download`` into a cache directory, reads their ``extern "C"``
blocks, ``pub type`` aliases, structs and ``pub const`` values, and compares
them with what our cdef modules (build_ffi/securetransport/) declare, as
cffi parses them:

* every function: the same number of parameters, and each parameter's and
  the result's type the same once typedefs are resolved (integer size and
  signedness, pointer depth, opaque object vs char vs struct);
* every typedef both declare (SSLCipherSuite is uint32_t on macOS, uint16_t
  only on iOS; OSStatus, CFIndex, Boolean, ...), and the struct fields of
  SecItemImportExportKeyParameters;
* every constant we give a value: the same value there.  A constant written
  ``...`` takes its value from Apple's header at build time (on macOS) and
  must be one the Debian crates lack;
* every global (kCFTypeArrayCallBacks, kSecImportExportPassphrase, ...).

What the Debian crates (0.4.2 and 0.8.1) do not declare is listed in
NOT_IN_DEBIAN, each name with its header, the macOS version it comes from
and whether a second source confirmed that; a listed name that the crates do
declare fails the test (the list must stay short and true).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cffi import FFI, model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from build_ffi.securetransport.build import CDEF_MODULES  # noqa: E402

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="the Debian cross-check runs on Linux; on macOS the compiler checks the cdefs "
    "against Apple's headers",
)

DEBIAN_PACKAGES = ("librust-security-framework-sys-dev", "librust-core-foundation-sys-dev")
CRATES = ("security-framework-sys", "core-foundation-sys")
# The versions Debian 12 ships, which NOT_IN_DEBIAN describes.  Another
# distribution's apt (Ubuntu on the GitHub runners) may fetch newer crates:
# every name they declare is compared all the same, and a listed name they
# do declare is compared instead of being required to be missing.
DOCUMENTED = {"security-framework-sys": "0.4.2", "core-foundation-sys": "0.8.1"}


@dataclass(frozen=True)
class Missing:
    header: str
    macos: str
    second_source: str  # what else confirms the name (and signature), or "unchecked"


APPLE_DOCS = "developer.apple.com/documentation/security"
# Names our cdefs use that Debian's security-framework-sys 0.4.2 / core-foundation-sys 0.8.1
# do not declare.  Values of the constants come from Apple's headers at build time.
NOT_IN_DEBIAN: dict[str, Missing] = {
    "SecTrustEvaluateWithError": Missing(
        "SecTrust.h",
        "10.14",
        f"{APPLE_DOCS}/sectrustevaluatewitherror(_:_:): (SecTrust, CFError*) -> bool, "
        "macOS 10.14; security-framework-sys 2.x (docs.rs) declares the same signature",
    ),
    "SecKeychainDelete": Missing(
        "SecKeychain.h",
        "10.2 (deprecated in 10.10, still shipped)",
        f"{APPLE_DOCS}/seckeychaindelete(_:): (SecKeychain?) -> OSStatus, macOS 10.2-10.10",
    ),
    "SecTrustSetVerifyDate": Missing(
        "SecTrust.h",
        "10.3",
        f"{APPLE_DOCS}/sectrustsetverifydate(_:_:): (SecTrust, CFDate) -> OSStatus, macOS 10.3; "
        "security-framework-sys 2.x (docs.rs) declares the same signature",
    ),
    "errSSLServerAuthCompleted": Missing("SecureTransport.h", "10.6", "unchecked"),
    "errSSLClientAuthCompleted": Missing("SecureTransport.h", "10.6", "unchecked"),
    "errSecDuplicateItem": Missing("SecBase.h", "10.0 (enum, unannotated)", "unchecked"),
    "errSecItemNotFound": Missing("SecBase.h", "10.0 (enum, unannotated)", "unchecked"),
    "errSecDecode": Missing("SecBase.h", "10.0 (enum, unannotated)", "unchecked"),
    "errSecPassphraseRequired": Missing("SecBase.h", "10.0 (enum, unannotated)", "unchecked"),
    "errSecPkcs12VerifyFailure": Missing("SecBase.h", "10.0 (enum, unannotated)", "unchecked"),
    "errSecUnknownFormat": Missing("SecBase.h", "10.0 (enum, unannotated)", "unchecked"),
    "errSecHostNameMismatch": Missing("SecBase.h", "10.7 (enum, unannotated)", "unchecked"),
    "errSecCertificateExpired": Missing("SecBase.h", "10.7 (enum, unannotated)", "unchecked"),
    "errSecCertificateNotValidYet": Missing("SecBase.h", "10.7 (enum, unannotated)", "unchecked"),
    "errSecCertificateRevoked": Missing("SecBase.h", "10.7 (enum, unannotated)", "unchecked"),
    "errSecCreateChainFailed": Missing("SecBase.h", "10.0 (enum, unannotated)", "unchecked"),
    "errSecInvalidExtendedKeyUsage": Missing("SecBase.h", "10.7 (enum, unannotated)", "unchecked"),
    "errSecInvalidKeyUsageForPolicy": Missing("SecBase.h", "10.7 (enum, unannotated)", "unchecked"),
    "kSecFormatUnknown": Missing("SecImportExport.h", "10.4", "unchecked"),
    "kSecFormatOpenSSL": Missing("SecImportExport.h", "10.4", "unchecked"),
    "kSecFormatWrappedPKCS8": Missing("SecImportExport.h", "10.4", "unchecked"),
    "kSecFormatX509Cert": Missing("SecImportExport.h", "10.4", "unchecked"),
    "kSecFormatPEMSequence": Missing("SecImportExport.h", "10.4", "unchecked"),
    "kSecFormatPKCS12": Missing("SecImportExport.h", "10.4", "unchecked"),
    "kSecItemTypeUnknown": Missing("SecImportExport.h", "10.4", "unchecked"),
    "kSecItemTypePrivateKey": Missing("SecImportExport.h", "10.4", "unchecked"),
    "kSecItemTypeCertificate": Missing("SecImportExport.h", "10.4", "unchecked"),
    "kSecItemTypeAggregate": Missing("SecImportExport.h", "10.4", "unchecked"),
}


# ---------------------------------------------------------------- fetching


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tlsapi-tests" / "debian-rust-sys"


def _fetch(cache: Path) -> Path:
    """The unpacked Debian packages (usr/share/cargo/registry/...), fetched once into ``cache``."""
    done = cache / "unpacked"
    if (done / "usr" / "share" / "cargo" / "registry").is_dir():
        return done
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.fail(
            "apt-get and dpkg-deb are needed to fetch "
            f"{' and '.join(DEBIAN_PACKAGES)} (Debian/Ubuntu) for this cross-check"
        )
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fetch-", dir=cache))
    try:
        result = subprocess.run(
            ["apt-get", "download", *DEBIAN_PACKAGES],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        debs = sorted(work.glob("*.deb"))
        if result.returncode != 0 or len(debs) != len(DEBIAN_PACKAGES):
            pytest.fail(
                f"apt-get download {' '.join(DEBIAN_PACKAGES)} failed (exit "
                f"{result.returncode}); run `apt-get update` or check the network:\n"
                f"{result.stderr[-2000:]}"
            )
        target = work / "unpacked"
        for deb in debs:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True, timeout=120)
        try:
            os.rename(target, done)  # atomic: another worker may have finished first
        except OSError:
            if not done.is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return done


# ---------------------------------------------------------------- the Rust side


@dataclass
class RustDecls:
    aliases: dict[str, str]
    opaque: set[str]
    structs: dict[str, list[tuple[str, str]]]
    consts: dict[str, int]
    functions: dict[str, tuple[list[str], str]]
    statics: dict[str, str]
    versions: dict[str, str]


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _items(text: str) -> Iterator[tuple[str, str]]:
    """(attributes, item) for each item at the current level, ``;``- or ``{...}``-terminated."""
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        attributes = []
        while text.startswith("#[", i) or text.startswith("#![", i):
            depth, j = 0, i
            while j < n:
                if text[j] == "[":
                    depth += 1
                elif text[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            attributes.append(text[i : j + 1])
            i = j + 1
            while i < n and text[i].isspace():
                i += 1
        if i >= n:
            return
        depth, j = 0, i
        while j < n:
            char = text[j]
            if char in "([":
                depth += 1
            elif char in ")]":
                depth -= 1
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0 and not text[i:j].lstrip().startswith(("pub type", "pub const")):
                    # a block item ends at its closing brace (impl, extern, struct, enum)
                    following = text[j + 1 :].lstrip()
                    if not following.startswith(";"):
                        break
            elif char == ";" and depth == 0:
                break
            j += 1
        yield " ".join(attributes), text[i : j + 1].strip()
        i = j + 1


def _ios_only(attributes: str) -> bool:
    return bool(re.search(r'cfg\(\s*target_os\s*=\s*"ios"\s*\)', attributes))


def _split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([<":
            depth += 1
        elif char in ")]>" and not (char == ">" and current and current[-1] == "-"):
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _int_literal(text: str) -> int | None:
    text = text.strip().replace("_", "")
    match = re.fullmatch(r"(-?)\s*(0x[0-9a-fA-F]+|\d+)", text)
    if not match:
        return None
    return int(match.group(1) + match.group(2), 0)


def _parse_rust(registry: Path) -> RustDecls:
    decls = RustDecls({}, set(), {}, {}, {}, {}, {})
    for crate in CRATES:
        (directory,) = registry.glob(f"{crate}-*")
        decls.versions[crate] = directory.name[len(crate) + 1 :]
        for source in sorted((directory / "src").glob("*.rs")):
            _parse_rust_text(_strip_comments(source.read_text(encoding="utf-8")), decls)
    return decls


def _parse_rust_text(text: str, decls: RustDecls) -> None:
    for attributes, raw in _items(text):
        if _ios_only(attributes):
            continue
        item = re.sub(r"\s+", " ", raw)
        if match := re.match(r"pub type (\w+) = (.*);$", item):
            decls.aliases[match.group(1)] = match.group(2).strip()
        elif match := re.match(
            r"pub (?:enum (\w+) \{\s*\}|struct (\w+)\s*\(\s*c_void\s*\)\s*;)", item
        ):
            decls.opaque.add(match.group(1) or match.group(2))
        elif (match := re.match(r"pub struct (\w+) \{(.*)\}", item)) and "repr(C)" in attributes:
            fields = []
            for field in _split_top(match.group(2)):
                name, _, type_ = field.removeprefix("pub ").partition(":")
                fields.append((name.strip(), type_.strip()))
            decls.structs[match.group(1)] = fields
        elif match := re.match(r"pub (?:const|static) (\w+): [\w:]+ = (.*);$", item):
            value = _int_literal(match.group(2))
            if value is not None:
                decls.consts[match.group(1)] = value
        elif match := re.match(r'(?:pub )?(?:unsafe )?extern (?:"C(?:-unwind)?" )?\{(.*)\}$', item):
            _parse_extern(match.group(1), decls)


def _parse_extern(body: str, decls: RustDecls) -> None:
    for attributes, raw in _items(body):
        if _ios_only(attributes):
            continue
        item = re.sub(r"\s+", " ", raw)
        if match := re.match(r"pub fn (\w+)\s*\((.*)\)\s*(?:->\s*(.*?))?\s*;$", item):
            params = [p.partition(":")[2].strip() for p in _split_top(match.group(2))]
            decls.functions[match.group(1)] = (params, (match.group(3) or "()").strip())
        elif match := re.match(r"pub static (\w+): (.*);$", item):
            decls.statics[match.group(1)] = match.group(2).strip()


# ---------------------------------------------------------------- canonical types

INTEGERS = {
    "u8": (1, False), "i8": (1, True), "u16": (2, False), "i16": (2, True),
    "u32": (4, False), "i32": (4, True), "u64": (8, False), "i64": (8, True),
    "usize": (8, False), "isize": (8, True), "c_uint": (4, False), "c_int": (4, True),
    "c_ushort": (2, False), "c_short": (2, True), "c_ulong": (8, False), "c_long": (8, True),
    "c_uchar": (1, False), "c_schar": (1, True),
}  # fmt: skip
Canon = tuple[Any, ...]


def _rust_canon(type_: str, decls: RustDecls, depth: int = 0) -> Canon:
    assert depth < 30, type_
    type_ = type_.strip()
    if match := re.fullmatch(r"\*\s*(?:mut|const)\s+(.*)", type_):
        return ("ptr", _rust_canon(match.group(1), decls, depth + 1))
    if match := re.fullmatch(r'(?:unsafe )?extern "C" fn\s*\((.*)\)\s*(?:->\s*(.*))?', type_):
        params = [p.partition(":")[2] or p for p in _split_top(match.group(1))]
        return (
            "fn",
            tuple(_rust_canon(p, decls, depth + 1) for p in params),
            _rust_canon(match.group(2) or "()", decls, depth + 1),
        )
    name = type_.split("::")[-1].strip()
    if name in ("()", ""):
        return ("void",)
    if name in ("c_void",) or name in decls.opaque:
        return ("opaque",)
    if name == "c_char":
        return ("char",)
    if name == "bool":
        return ("bool",)
    if name in ("f64", "c_double"):
        return ("float", 8)
    if name in INTEGERS:
        return ("int", *INTEGERS[name])
    if name in decls.aliases:
        return _rust_canon(decls.aliases[name], decls, depth + 1)
    if name in decls.structs:
        return ("struct", name)
    raise AssertionError(f"the Rust type {type_!r} is not understood by this test")


def _ffi() -> FFI:
    ffi = FFI()
    types, functions = [], []
    for name in CDEF_MODULES:
        module = __import__(f"build_ffi.securetransport.{name}", fromlist=["TYPES"])
        types.append(module.TYPES)
        functions.append(module.FUNCTIONS)
    ffi.cdef("\n".join(types) + "\n" + "\n".join(functions))
    return ffi


def _c_canon(tp: Any, ffi: FFI) -> Canon:
    if isinstance(tp, model.NamedPointerType) or (
        isinstance(tp, model.PointerType) and isinstance(tp.totype, model.StructOrUnion)
        and tp.totype.name.startswith("$$")
    ):  # fmt: skip
        return ("ptr", ("opaque",))
    if isinstance(tp, model.PointerType):
        return ("ptr", _c_canon(tp.totype, ffi))
    if isinstance(tp, model.VoidType):
        return ("void",)
    if isinstance(tp, model.PrimitiveType):
        if tp.name == "char":
            return ("char",)
        if tp.name == "_Bool":
            return ("bool",)
        if tp.is_float_type():
            return ("float", ffi.sizeof(tp.name))
        assert tp.is_integer_type(), tp.name
        return ("int", ffi.sizeof(tp.name), int(ffi.cast(tp.name, -1)) < 0)
    if isinstance(tp, (model.FunctionPtrType, model.RawFunctionType)):
        return (
            "fn",
            tuple(_c_canon(arg, ffi) for arg in tp.args),
            _c_canon(tp.result, ffi),
        )
    if isinstance(tp, model.StructOrUnion):
        return ("struct", tp.name.lstrip("$"))
    raise AssertionError(f"the C type {tp!r} is not understood by this test")


def _deopaque(canon: Canon) -> Canon:
    """void and opaque pointees compare equal (CFAllocatorRef is ``const void *`` in Rust)."""
    if canon[0] == "ptr":
        inner = _deopaque(canon[1])
        return ("ptr", ("opaque",) if inner == ("void",) else inner)
    if canon[0] == "fn":
        return ("fn", tuple(_deopaque(c) for c in canon[1]), _deopaque(canon[2]))
    return canon


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def rust() -> RustDecls:
    registry = _fetch(_cache_dir()) / "usr" / "share" / "cargo" / "registry"
    decls = _parse_rust(registry)
    # Guards against a parser that silently reads nothing.
    assert len(decls.functions) > 150 and len(decls.consts) > 100, decls.versions
    return decls


@pytest.fixture(scope="module")
def ours() -> dict[str, tuple[Any, int]]:
    return dict(_ffi()._parser._declarations)


def _names(ours: dict[str, tuple[Any, int]], kind: str) -> dict[str, Any]:
    """The declarations of one kind, without our own C's (transport.h: tlsapi_securetransport_*)."""
    return {
        name: value[0]
        for key, value in ours.items()
        if key.startswith(kind + " ")
        and not (name := key.split(" ", 1)[1]).lower().startswith("tlsapi_securetransport")
    }


# ---------------------------------------------------------------- tests


def test_the_cdefs_parse_with_cffi_as_composed_by_the_builder() -> None:
    ffi = _ffi()
    functions = _names(dict(ffi._parser._declarations), "function")
    for needed in ("SSLCreateContext", "SSLSetIOFuncs", "SSLHandshake", "SSLRead", "SSLWrite",
                   "SSLClose", "SSLCopyPeerTrust", "SecTrustEvaluateWithError",
                   "SecPolicyCreateSSL", "SecItemImport", "SecKeychainCreate",
                   "SecPKCS12Import", "SSLSetALPNProtocols", "SSLCopyALPNProtocols"):  # fmt: skip
        assert needed in functions, needed


def test_every_function_matches_debian(rust: RustDecls, ours: dict[str, tuple[Any, int]]) -> None:
    ffi = FFI()
    problems = []
    checked = 0
    for name, tp in sorted(_names(ours, "function").items()):
        if name not in rust.functions:
            # Newer crates may drop a deprecated call: only the documented ones must have it.
            if name not in NOT_IN_DEBIAN and rust.versions == DOCUMENTED:
                problems.append(f"{name}: not declared by the Debian crates nor in NOT_IN_DEBIAN")
            continue
        params, result = rust.functions[name]
        if len(params) != len(tp.args):
            problems.append(f"{name}: {len(tp.args)} parameters here, {len(params)} in Debian's")
            continue
        for index, (ours_arg, theirs) in enumerate(zip(tp.args, params, strict=True)):
            mine, other = _deopaque(_c_canon(ours_arg, ffi)), _deopaque(_rust_canon(theirs, rust))
            if mine != other:
                problems.append(f"{name} parameter {index + 1}: {mine} here, {other} ({theirs})")
        mine, other = _deopaque(_c_canon(tp.result, ffi)), _deopaque(_rust_canon(result, rust))
        if mine != other:
            problems.append(f"{name} result: {mine} here, {other} ({result})")
        checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 50, checked


def test_every_typedef_both_declare_matches(
    rust: RustDecls, ours: dict[str, tuple[Any, int]]
) -> None:
    ffi = FFI()
    problems, checked = [], 0
    for name, tp in sorted(_names(ours, "typedef").items()):
        if name not in rust.aliases or isinstance(tp, model.StructOrUnion):
            continue
        mine, other = _deopaque(_c_canon(tp, ffi)), _deopaque(_rust_canon(name, rust))
        if mine != other:
            problems.append(f"{name}: {mine} here, {other} ({rust.aliases[name]}) in Debian's")
        checked += 1
    assert not problems, "\n".join(problems)
    # OSStatus, Boolean, CFIndex, SSLCipherSuite, SSLProtocol, SecTrustResultType, ...
    assert checked >= 20, checked


def test_struct_fields_match(rust: RustDecls, ours: dict[str, tuple[Any, int]]) -> None:
    """Every struct whose fields we declare has Debian's fields, in order, with the same types."""
    ffi = FFI()
    checked = []
    for name, struct in sorted(_names(ours, "typedef").items()):
        if not isinstance(struct, model.StructOrUnion) or struct.fldnames is None:
            continue
        if not struct.fldnames or name not in rust.structs:
            continue  # opaque ("{ ...; }") here, or not in the crates
        theirs = rust.structs[name]
        assert list(struct.fldnames) == [field for field, _ in theirs], name
        for mine, (field, other) in zip(struct.fldtypes, theirs, strict=True):
            assert _deopaque(_c_canon(mine, ffi)) == _deopaque(_rust_canon(other, rust)), (
                f"{name}.{field}"
            )
        checked.append(name)
    assert {"SecItemImportExportKeyParameters", "SecKeychainSettings"} <= set(checked), checked


def test_every_constant_value_matches_debian(
    rust: RustDecls, ours: dict[str, tuple[Any, int]]
) -> None:
    problems, checked = [], 0
    for name, value in sorted(_names(ours, "macro").items()):
        if value == "...":
            if name not in NOT_IN_DEBIAN:
                problems.append(
                    f"{name}: value left to the header although Debian's crates may declare "
                    "it: give the value (checked here) or list it in NOT_IN_DEBIAN"
                )
            continue
        if name not in rust.consts:
            if rust.versions == DOCUMENTED:
                problems.append(
                    f"{name}: a value is given here ({value}) but Debian's crates lack it"
                )
            continue
        elif rust.consts[name] != value:
            problems.append(f"{name}: {value} here, {rust.consts[name]} in Debian's")
        checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 60, checked


def test_every_global_matches_debian(rust: RustDecls, ours: dict[str, tuple[Any, int]]) -> None:
    ffi = FFI()
    problems = []
    globals_ = {**_names(ours, "constant"), **_names(ours, "variable")}
    assert "kCFTypeArrayCallBacks" in globals_ and "kSecImportExportPassphrase" in globals_
    for name, tp in sorted(globals_.items()):
        if name not in rust.statics:
            if rust.versions == DOCUMENTED:
                problems.append(f"{name}: not a static in Debian's crates")
            continue
        mine, other = _deopaque(_c_canon(tp, ffi)), _deopaque(_rust_canon(rust.statics[name], rust))
        if mine != other:
            problems.append(f"{name}: {mine} here, {other} in Debian's")
    assert not problems, "\n".join(problems)


def test_names_missing_from_debian_are_listed_truly(
    rust: RustDecls, ours: dict[str, tuple[Any, int]]
) -> None:
    declared_here = set(_names(ours, "function")) | set(_names(ours, "macro"))
    documented = rust.versions == DOCUMENTED
    for name, missing in NOT_IN_DEBIAN.items():
        assert name in declared_here, f"{name} is listed but our cdefs do not use it"
        if documented:
            assert name not in rust.functions and name not in rust.consts, (
                f"{name} is declared by Debian's crates ({rust.versions}): check it there instead"
            )
        assert missing.header.endswith(".h") and missing.macos and missing.second_source


def test_the_parser_reads_what_it_must(rust: RustDecls) -> None:
    # A few known declarations, read back exactly (guards the Rust parser itself).
    if rust.versions != DOCUMENTED:
        pytest.skip(f"the parser's exact reading is pinned to {DOCUMENTED}, not {rust.versions}")
    assert rust.functions["SSLRead"] == (
        ["SSLContextRef", "*mut c_void", "usize", "*mut usize"],
        "OSStatus",
    )
    assert rust.consts["errSSLWouldBlock"] == -9803
    assert rust.consts["kCFStringEncodingUTF8"] == 0x08000100
    assert _rust_canon("SSLCipherSuite", rust) == ("int", 4, False)  # not iOS's u16
    assert "SSLNewContext" in rust.functions  # macOS-only items are kept


def test_cffi_emits_the_api_mode_module(tmp_path: Path) -> None:
    """cffi's recompiler accepts every declaration for out-of-line API mode (as on macOS)."""
    import runpy

    builder = runpy.run_path(str(ROOT / "build_ffi" / "securetransport" / "build.py"))
    ffi = builder["make_builder"](relative_paths=False)
    kwds = ffi._assigned_source[3]
    assert kwds["extra_link_args"] == ["-framework", "Security", "-framework", "CoreFoundation"]
    source = tmp_path / "_securetransport.c"
    ffi.emit_c_code(str(source))
    text = source.read_text(encoding="utf-8")
    assert "#include <Security/SecureTransport.h>" in text
    for name in ("SSLHandshake", "SecTrustEvaluateWithError", "SecItemImport", "CFRelease"):
        assert f"_cffi_d_{name}" in text, name
