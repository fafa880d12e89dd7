#!/bin/sh
# t0070-package.sh — mlctl package, package inspect|verify and keygen on real models:
# bit-identical packages (a second apart, with SOURCE_DATE_EPOCH), a tar that tar(1) and
# svm-predict read, a manifest whose digests and sizes are the files', Ed25519 signatures
# that minisign(1) verifies and that mlctl verifies from minisign, tampering with the
# model, the manifest or the signature (exit 1, naming what failed), files that are not
# packages (exit 65), and hostile archives refused by verify and deploy with nothing
# written outside the target.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
run train "$DATA/iris.csv" --name iris --label species -C 1 --gamma 0.5 -q
expect_rc "train iris:1" 0
run train "$DATA/heart_scale" --name heart --scale none -C 1 --gamma 0.1 -q
expect_rc "train heart:1" 0

sha() { sha256sum "$1" | cut -c1-64; }

# ---- determinism ----
run package iris:1 -o a.mlpkg
expect_rc "package exits 0" 0
expect_out "package says what it wrote" "^Packaged iris:1 as a.mlpkg \(.*sha256 $(sha a.mlpkg)\)"
sleep 1
run package iris:1 -o b.mlpkg
check "the same version a second later: bit-identical" cmp -s a.mlpkg b.mlpkg
run package iris -o latest.mlpkg
check "NAME (latest) packages the same bytes as NAME:1" cmp -s a.mlpkg latest.mlpkg
run --json package iris:1
expect_rc "package with the default name exits 0" 0
check "default name is NAME-VERSION.mlpkg" test -f iris-1.mlpkg
check "package --json: keys" test "$(json 'sorted(d.keys())')" = "['model', 'path', 'run', 'sha256', 'signature', 'size']"
check "package --json: sha256 and size are the file's" test "$(json 'd["sha256"], d["size"]')" = \
	"$(sha iris-1.mlpkg) $(wc -c <iris-1.mlpkg)"
SOURCE_DATE_EPOCH=1700000000 "$MLCTL" package iris:1 -o e1.mlpkg -q
sleep 1
SOURCE_DATE_EPOCH=1700000000 "$MLCTL" package iris:1 -o e2.mlpkg -q
check "SOURCE_DATE_EPOCH twice: bit-identical" cmp -s e1.mlpkg e2.mlpkg
check "SOURCE_DATE_EPOCH changes the bytes (entry times)" test "$(sha e1.mlpkg)" != "$(sha a.mlpkg)"
tar tzf a.mlpkg >list 2>"$TMP/err"
check "tar tzf lists it" test "$(tr '\n' ' ' <list)" = \
	"MANIFEST.yaml model/ model/libsvm.model model/preprocess.yaml reference/ reference/profile.yaml "
# Every member: fixed times (the epoch given), owner root/0, modes 0644/0755; the gzip
# header carries no time and no name.
$PY - e1.mlpkg >attrs <<'EOF'
import sys, tarfile
raw = open(sys.argv[1], 'rb').read(10)
print('gzip', raw[:2].hex(), raw[3] & 0x08, int.from_bytes(raw[4:8], 'little'))
for m in tarfile.open(sys.argv[1]):
    print(m.name, m.mtime, m.uid, m.gid, m.uname, m.gname, oct(m.mode), m.type.decode() if m.type else '')
EOF
check "gzip header: no name, no timestamp" grep -qx "gzip 1f8b 0 0" attrs
check "every entry: mtime = SOURCE_DATE_EPOCH, root:root 0/0" \
	test "$(grep -vc ' 1700000000 0 0 root root ' attrs)" = 1
check "files 0644, directories 0755" test "$(grep -c "0o644 0$" attrs) $(grep -c "0o755 5$" attrs)" = "4 2"

# ---- the manifest says the truth about every file ----
mkdir x && tar xzf a.mlpkg -C x
$PY - x <<'EOF' >mcheck
import sys, yaml, hashlib, os
d = sys.argv[1]
m = yaml.safe_load(open(os.path.join(d, 'MANIFEST.yaml')))
files = {f['path']: f for f in m['files']}
print(sorted(files) == ['model/libsvm.model', 'model/preprocess.yaml', 'reference/profile.yaml'])
for p, f in sorted(files.items()):
    b = open(os.path.join(d, p), 'rb').read()
    print(p, f['sha256'] == hashlib.sha256(b).hexdigest(), f['size'] == len(b))
print(m['name'], m['version'], m['model']['type'], m['model']['classes'], m['model']['label'])
print(bool(m['lineage']['train_run']), len(m['lineage']['dataset']['digest']), m['lineage']['dataset']['rows'])
EOF
check "manifest lists exactly the other files" test "$(sed -n 1p mcheck)" = True
check "manifest: every sha256 and size match" test "$(grep -c ' True True$' mcheck)" = 3
check "manifest: name, version, type, classes, label" grep -qxF "iris 1 c-svc ['setosa', 'versicolor', 'virginica'] species" mcheck
check "manifest: lineage (train run, dataset digest, rows)" grep -qx "True 64 150" mcheck

run package inspect a.mlpkg
expect_rc "inspect exits 0" 0
check "inspect prints the manifest as it is in the package" cmp -s "$TMP/out" x/MANIFEST.yaml
run --json package inspect a.mlpkg
check "inspect --json: name, version, files, sha256" test "$(json 'd["name"], d["version"], d["files"], d["sha256"]')" = \
	"iris 1 ['MANIFEST.yaml', 'model/libsvm.model', 'model/preprocess.yaml', 'reference/profile.yaml'] $(sha a.mlpkg)"
check "inspect --json: the manifest text" test "$(json 'd["manifest"] == open("x/MANIFEST.yaml").read()')" = True

# The model inside is svm_save_model's: svm-predict gives mlctl's predictions.
"$MLCTL" package heart:1 -o heart.mlpkg -q
mkdir hx && tar xzf heart.mlpkg -C hx
svm-predict "$DATA/heart_scale" hx/model/libsvm.model svm.out >/dev/null
run predict heart.mlpkg --input "$DATA/heart_scale" --output mlctl.out
expect_rc "predict from the package file" 0
check "svm-predict with the packaged model = mlctl predict with the package" \
	sh -c "tail -n +2 mlctl.out | cmp -s - svm.out"

# ---- keys and signatures ----
run keygen
expect_rc "keygen exits 0" 0
check "keygen: secret key mode 0600" test "$(stat -c %a mlctl.key)" = 600
check "keygen: public key in minisign's format" grep -q "^untrusted comment: " mlctl.pub
run keygen
expect_rc "keygen refuses to overwrite a key" 73
run package iris:1 -o churn.mlpkg --sign mlctl.key
expect_rc "package --sign exits 0" 0
check "signed package: same bytes as unsigned" cmp -s churn.mlpkg a.mlpkg
check "signature written to FILE.minisig" test -s churn.mlpkg.minisig
check "minisign -Vm FILE -p KEY accepts mlctl's signature" minisign -Vqm churn.mlpkg -p mlctl.pub
check "minisign -V -p KEY -m FILE accepts it too" minisign -V -q -p mlctl.pub -m churn.mlpkg
run package verify churn.mlpkg --pubkey mlctl.pub
expect_rc "verify --pubkey: good" 0
expect_out "verify says the signature is good" "4 files match the manifest; signature good"
expect_out "verify shows the trusted comment" "trusted comment: mlctl package iris:1 sha256:$(sha churn.mlpkg)"
run --json package verify churn.mlpkg --pubkey mlctl.pub
check "verify --json: signature_checked" test "$(json 'd["signature_checked"]')" = True
run package verify churn.mlpkg
expect_rc "verify without a key checks the digests" 0
expect_out "verify without a key says so" "signature not checked"
cp churn.mlpkg other.mlpkg
run package verify other.mlpkg --pubkey mlctl.pub --signature churn.mlpkg.minisig
expect_rc "verify --signature FILE" 0
run package verify other.mlpkg --pubkey mlctl.pub
expect_rc "verify --pubkey without a signature file: exit 1" 1
expect_err "it says the signature is missing" "no signature"

# minisign's own keys and signatures work with mlctl, both ways.
minisign -G -W -p ms.pub -s ms.key >/dev/null 2>&1
minisign -S -s ms.key -m other.mlpkg -t "signed by minisign" >/dev/null 2>&1
run package verify other.mlpkg --pubkey ms.pub
expect_rc "mlctl verifies a minisign signature" 0
expect_out "with minisign's trusted comment" "trusted comment: signed by minisign"
run package iris:1 -o ms.mlpkg --sign ms.key
expect_rc "mlctl signs with minisign's secret key" 0
check "minisign verifies what mlctl signed with its key" minisign -Vqm ms.mlpkg -p ms.pub
run package verify churn.mlpkg --pubkey ms.pub
expect_rc "verify with the wrong public key: exit 1" 1

# ---- tampering ----
# retar DIR FILE: re-pack an extracted package the way a careful attacker would.
retar() { (cd "$1" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -czf "$2" MANIFEST.yaml model reference); }
flipbyte() { $PY -c "
import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[int(sys.argv[2]) % len(b)] ^= 1; open(p, 'wb').write(b)" "$1" "$2"; }
released() { find "$TMP/.mlctl/targets" -mindepth 3 -maxdepth 3 2>/dev/null | grep -c . ; }

rm -rf t && mkdir t && tar xzf churn.mlpkg -C t
flipbyte t/model/libsvm.model 1000
retar t "$TMP/bad-model.mlpkg"
run package verify bad-model.mlpkg
expect_rc "one byte flipped in the model: verify exits 1" 1
expect_err "it names the model file" "bad-model.mlpkg: model/libsvm.model does not match the manifest"
run deploy bad-model.mlpkg --target prod
expect_rc "deploy refuses the modified model (exit 1)" 1
expect_err "deploy names the model file" "model/libsvm.model does not match the manifest"
check "nothing was released" test "$(released)" = 0

rm -rf t && mkdir t && tar xzf churn.mlpkg -C t
$PY - t/MANIFEST.yaml <<'EOF'
import sys, hashlib
p = sys.argv[1]; text = open(p).read()
d = hashlib.sha256(open('t/model/preprocess.yaml', 'rb').read()).hexdigest()
bad = ('0' if d[0] != '0' else '1') + d[1:]
open(p, 'w').write(text.replace(d, bad))
EOF
check "test set-up: the preprocess digest was edited" sh -c "! cmp -s t/MANIFEST.yaml x/MANIFEST.yaml"
retar t "$TMP/bad-digest.mlpkg"
run package verify bad-digest.mlpkg
expect_rc "a digest changed in the manifest: verify exits 1" 1
expect_err "it names the file" "model/preprocess.yaml does not match the manifest"
run deploy bad-digest.mlpkg --target prod
expect_rc "deploy refuses a package whose manifest digest was changed (exit 1)" 1
expect_err "deploy names the file" "model/preprocess.yaml does not match the manifest"

rm -rf t && mkdir t && tar xzf churn.mlpkg -C t
sed -i 's/^  nr_class: 3$/  nr_class: 4/' t/MANIFEST.yaml
retar t "$TMP/bad-manifest.mlpkg"
cp churn.mlpkg.minisig bad-manifest.mlpkg.minisig
run package verify bad-manifest.mlpkg --pubkey mlctl.pub
expect_rc "one byte changed in the manifest, signed package: verify exits 1" 1
expect_err "it says the signature does not match" "bad-manifest.mlpkg.minisig: signature verification failed"
run deploy bad-manifest.mlpkg --target prod --pubkey mlctl.pub
expect_rc "deploy --pubkey refuses it" 1
expect_err "deploy names the signature" "signature verification failed"

cp churn.mlpkg bad-sig.mlpkg
cp churn.mlpkg.minisig bad-sig.mlpkg.minisig
$PY - bad-sig.mlpkg.minisig <<'EOF'
import sys, base64
p = sys.argv[1]; lines = open(p).read().split('\n')
sig = bytearray(base64.b64decode(lines[1])); sig[40] ^= 1
lines[1] = base64.b64encode(bytes(sig)).decode(); open(p, 'w').write('\n'.join(lines))
EOF
run package verify bad-sig.mlpkg --pubkey mlctl.pub
expect_rc "one byte flipped in the signature: verify exits 1" 1
expect_err "it names the signature file" "bad-sig.mlpkg.minisig: signature verification failed"
check "minisign agrees" sh -c "! minisign -Vqm bad-sig.mlpkg -p mlctl.pub 2>/dev/null"
run deploy bad-sig.mlpkg --target prod --pubkey mlctl.pub
expect_rc "deploy refuses a bad signature" 1
cp churn.mlpkg bad-tc.mlpkg
sed 's/^trusted comment: mlctl package iris:1/trusted comment: mlctl package iris:9/' churn.mlpkg.minisig >bad-tc.mlpkg.minisig
run package verify bad-tc.mlpkg --pubkey mlctl.pub
expect_rc "an edited trusted comment: verify exits 1" 1
check "nothing was released by the refused deploys" test "$(released)" = 0

# ---- not packages ----
echo "hello" >text.mlpkg
run package verify text.mlpkg
expect_rc "a text file: exit 65" 65
expect_err "it says it is not a package" "text.mlpkg: not a package"
gzip -c "$DATA/iris.csv" >csv.mlpkg
run package verify csv.mlpkg
expect_rc "a gzip file that is no tar: exit 65" 65
(cd x && tar -cf "$TMP/plain.mlpkg" MANIFEST.yaml model reference)
run package verify plain.mlpkg
expect_rc "an uncompressed tar: exit 65" 65
head -c $(($(wc -c <a.mlpkg) / 2)) a.mlpkg >half.mlpkg
run package verify half.mlpkg
expect_rc "a truncated package: exit 65" 65
(cd x && tar -czf "$TMP/nomanifest.mlpkg" model reference)
run package verify nomanifest.mlpkg
expect_rc "no MANIFEST.yaml: exit 65" 65
expect_err "it says what is missing" "no MANIFEST.yaml"
run package verify nosuch.mlpkg
expect_rc "a missing file: exit 66" 66
run package verify
expect_rc "verify without a file: exit 64" 64

# ---- hostile archives: refused by verify and by deploy, nothing written anywhere ----
mkdir -p "$TMP/abs"
$PY - a.mlpkg "$TMP/abs/x" <<'EOF'
import io, sys, tarfile
src = tarfile.open(sys.argv[1])
good = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
def build(fn, extra):
    with tarfile.open(fn, 'w:gz', format=tarfile.USTAR_FORMAT) as t:
        for m, d in good:
            t.addfile(m, io.BytesIO(d) if d is not None else None)
        extra(t)
def entry(name, data=b'pwned\n', **kw):
    def add(t):
        ti = tarfile.TarInfo(name); ti.size = len(data) if data is not None else 0
        for k, v in kw.items(): setattr(ti, k, v)
        t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return add
build('h-dotdot.mlpkg', entry('../evil'))
build('h-deep-dotdot.mlpkg', entry('model/../../evil'))
build('h-absolute.mlpkg', entry(sys.argv[2]))
build('h-symlink.mlpkg', entry('model/link', None, type=tarfile.SYMTYPE, linkname='/etc/passwd'))
build('h-hardlink.mlpkg', entry('model/hard', None, type=tarfile.LNKTYPE, linkname='MANIFEST.yaml'))
build('h-device.mlpkg', entry('model/null', None, type=tarfile.CHRTYPE, devmajor=1, devminor=3))
build('h-fifo.mlpkg', entry('model/fifo', None, type=tarfile.FIFOTYPE))
build('h-unknown.mlpkg', entry('model/extra.txt'))
build('h-duplicate.mlpkg', entry('model/libsvm.model', b'svm_type c_svc\n'))
# A gzip bomb: one honest ustar entry of 1.2 GiB of zeros, about 1.2 MB on disk (gzip
# members of 1 MiB each, which gzip and libarchive read as one stream).
ti = tarfile.TarInfo('model/libsvm.model'); ti.size = 1200 << 20; ti.mode = 0o644
import gzip
member = gzip.compress(bytes(1 << 20), 9, mtime=0)
with open('h-bomb.mlpkg', 'wb') as out:
    out.write(gzip.compress(ti.tobuf(tarfile.USTAR_FORMAT), mtime=0))
    for i in range(1200):
        out.write(member)
    out.write(gzip.compress(bytes(1024), mtime=0))
EOF
# A 10 GB sparse file as the model, as GNU tar stores it with -S.
rm -rf sp && mkdir sp && tar xzf a.mlpkg -C sp && rm sp/model/libsvm.model
truncate -s 10G sp/model/libsvm.model
(cd sp && tar -S --sort=name -czf "$TMP/h-sparse.mlpkg" MANIFEST.yaml model reference)
rm -rf sp
check "test set-up: a 1.2 MB bomb whose tar entry holds 1.2 GiB" test "$($PY -c "
import tarfile; m = tarfile.open('h-bomb.mlpkg', 'r|gz').next(); print(m.name, m.size)") $(($(wc -c <h-bomb.mlpkg) < 2000000))" = \
	"model/libsvm.model 1258291200 1"
check "test set-up: tar lists the sparse entry at 10 GB" sh -c "tar tzvf h-sparse.mlpkg | grep -q ' 10737418240 .*model/libsvm.model'"

snapshot() { find "$TMP" -path "$TMP/.mlctl" -prune -o ! -name out ! -name err ! -name before ! -name after -print | sort; }
snapshot >before
for h in dotdot:'"\.\." in path' deep-dotdot:'"\.\." in path' absolute:'absolute path' \
	symlink:'is a symbolic link' hardlink:'is a hard link' device:'is a device' fifo:'is a fifo' \
	unknown:'not a file a package holds' duplicate:'appears twice' \
	bomb:'over the limit of 1073741824 bytes' sparse:'refused: (declares 10737418240 bytes|is a sparse file)'; do
	name=${h%%:*}
	why=${h#*:}
	run package verify "h-$name.mlpkg"
	expect_rc "hostile $name: verify exits 65" 65
	expect_err "hostile $name: verify says why" "$why"
	run deploy "h-$name.mlpkg" --target hostile
	expect_rc "hostile $name: deploy exits 65" 65
	expect_err "hostile $name: deploy says why" "$why"
done
snapshot >after
check "hostile archives wrote nothing outside the registry" cmp -s before after
check "no ../evil next to the target or the registry" sh -c "! ls '$TMP/evil' '$TMP/.mlctl/evil' '$TMP/.mlctl/targets/evil' 2>/dev/null"
check "the hostile packages created no target (no directory, nothing in deploy status)" \
	sh -c "! test -e '$TMP/.mlctl/targets/hostile' && ! '$MLCTL' deploy status hostile >/dev/null 2>&1"
