"""Real-shaped SBOMs and in-toto links for the scenarios (CycloneDX JSON/XML, SPDX 2.3, in-toto).

Shapes follow what Syft, cdxgen and in-toto-run write: CycloneDX with the
subject in ``metadata.component.hashes`` (an image's manifest digest or a
binary's file digest) and file components nested under their package; SPDX
2.3 with the DESCRIBES element carrying the subject checksum, ``./`` relative
file names and CONTAINS relationships; in-toto v0.9 links whose product is the
binary and whose materials are the libraries it was linked against.
"""
import hashlib
import json
from xml.sax.saxutils import escape, quoteattr

from claw_ta_tools.scenarios.simulation import hexdigest

CREATED = "2026-11-18T09:14:02Z"


def _purl(lib, distro):
    return "pkg:deb/%s/%s@%s?arch=amd64&distro=%s" % (distro.split("-")[0], lib.package, lib.version, distro)


def _group(libs):
    packages, seen = {}, set()
    for lib in libs:
        if lib.path in seen:
            continue
        seen.add(lib.path)
        packages.setdefault((lib.package, lib.version), []).append(lib)
    return sorted(packages.items())


def cyclonedx_json(subject_name, subject_digest, libs, distro="debian-12", kind="container",
                   spec="1.5", extra_components=()):
    """CycloneDX JSON: packages with their files nested under them (``type: file``)."""
    components = []
    for (pkg, ver), files in _group(libs):
        ref = "pkg:%s@%s" % (pkg, ver)
        components.append({
            "bom-ref": ref, "type": "library", "name": pkg, "version": ver,
            "purl": _purl(files[0], distro),
            "properties": [{"name": "syft:package:type", "value": "deb"},
                           {"name": "syft:location:0:path", "value": "/var/lib/dpkg/status"}],
            "components": [{"bom-ref": "file:" + lib.path, "type": "file", "name": lib.path,
                            "hashes": [{"alg": "SHA-1", "content": hexdigest("sha1|" + lib.digest)[:40]},
                                       {"alg": "SHA-256", "content": lib.digest[7:]}]}
                           for lib in files]})
    components.extend(extra_components)
    doc = {"$schema": "http://cyclonedx.org/schema/bom-%s.schema.json" % spec,
           "bomFormat": "CycloneDX", "specVersion": spec,
           "serialNumber": "urn:uuid:%s-%s-4%s-8%s-%s" % (
               hexdigest(subject_digest)[:8], hexdigest(subject_digest)[8:12],
               hexdigest(subject_digest)[13:16], hexdigest(subject_digest)[17:20], hexdigest(subject_digest)[20:32]),
           "version": 1,
           "metadata": {"timestamp": CREATED,
                        "tools": ({"components": [{"type": "application", "author": "anchore",
                                                   "name": "syft", "version": "1.4.1"}]}
                                  if spec >= "1.5" else [{"vendor": "anchore", "name": "syft", "version": "1.4.1"}]),
                        "component": {"bom-ref": "subject", "type": kind, "name": subject_name,
                                      "version": subject_digest,
                                      "hashes": [{"alg": "SHA-256", "content": subject_digest[7:]}]}},
           "components": components}
    return json.dumps(doc, indent=2) + "\n"


def cyclonedx_xml(subject_name, subject_digest, libs, distro="debian-12", kind="container", spec="1.4"):
    """CycloneDX XML (cdxgen style): packages and file components side by side."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<bom xmlns="http://cyclonedx.org/schema/bom/%s" serialNumber="urn:uuid:%s-%s-4%s-9%s-%s" version="1">'
           % (spec, hexdigest(subject_digest)[:8], hexdigest(subject_digest)[8:12],
              hexdigest(subject_digest)[13:16], hexdigest(subject_digest)[17:20], hexdigest(subject_digest)[20:32]),
           '  <metadata>', '    <timestamp>%s</timestamp>' % CREATED,
           '    <tools><tool><vendor>cyclonedx</vendor><name>cdxgen</name><version>9.11.4</version></tool></tools>',
           '    <component type=%s bom-ref="subject">' % quoteattr(kind),
           '      <name>%s</name>' % escape(subject_name),
           '      <version>%s</version>' % escape(subject_digest),
           '      <hashes><hash alg="SHA-256">%s</hash></hashes>' % subject_digest[7:],
           '    </component>', '  </metadata>', '  <components>']
    for (pkg, ver), files in _group(libs):
        out += ['    <component type="library" bom-ref=%s>' % quoteattr("pkg:%s@%s" % (pkg, ver)),
                '      <name>%s</name>' % escape(pkg), '      <version>%s</version>' % escape(ver),
                '      <purl>%s</purl>' % escape(_purl(files[0], distro)), '    </component>']
        for lib in files:
            out += ['    <component type="file" bom-ref=%s>' % quoteattr("file:" + lib.path),
                    '      <name>%s</name>' % escape(lib.path),
                    '      <hashes><hash alg="SHA-256">%s</hash></hashes>' % lib.digest[7:],
                    '    </component>']
    out += ['  </components>', '</bom>']
    return "\n".join(out) + "\n"


def spdx_json(subject_name, subject_digest, libs, distro="ubuntu-22.04", relative=True):
    """SPDX 2.3 JSON (Syft style) describing an image by its manifest digest."""
    packages = [{"name": subject_name, "SPDXID": "SPDXRef-DocumentRoot-Image",
                 "versionInfo": subject_digest, "supplier": "NOASSERTION",
                 "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
                 "checksums": [{"algorithm": "SHA256", "checksumValue": subject_digest[7:]}],
                 "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
                 "copyrightText": "NOASSERTION", "primaryPackagePurpose": "CONTAINER",
                 "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                   "referenceLocator": "pkg:oci/%s@sha256%%3A%s?repository_url=%s" % (
                                       subject_name.rsplit("/", 1)[-1], subject_digest[7:], subject_name)}]}]
    files, rels = [], [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                        "relatedSpdxElement": "SPDXRef-DocumentRoot-Image"}]
    for (pkg, ver), group in _group(libs):
        pid = "SPDXRef-Package-deb-%s-%s" % (pkg, hexdigest(pkg + ver)[:16])
        sha1s = [hexdigest("sha1|" + lib.digest)[:40] for lib in group]
        packages.append({"name": pkg, "SPDXID": pid, "versionInfo": ver, "supplier": "NOASSERTION",
                         "downloadLocation": "NOASSERTION", "filesAnalyzed": True,
                         "packageVerificationCode": {
                             "packageVerificationCodeValue": hashlib.sha1("".join(sorted(sha1s)).encode()).hexdigest()},
                         "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
                         "copyrightText": "NOASSERTION",
                         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                           "referenceLocator": _purl(group[0], distro)}]})
        rels.append({"spdxElementId": "SPDXRef-DocumentRoot-Image", "relationshipType": "CONTAINS",
                     "relatedSpdxElement": pid})
        for lib, sha1 in zip(group, sha1s):
            fid = "SPDXRef-File-%s" % hexdigest(lib.path)[:16]
            files.append({"fileName": ("." + lib.path) if relative else lib.path, "SPDXID": fid,
                          "checksums": [{"algorithm": "SHA1", "checksumValue": sha1},
                                        {"algorithm": "SHA256", "checksumValue": lib.digest[7:]}],
                          "licenseConcluded": "NOASSERTION", "copyrightText": "NOASSERTION"})
            rels.append({"spdxElementId": pid, "relationshipType": "CONTAINS", "relatedSpdxElement": fid})
    doc = {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
           "name": subject_name, "documentNamespace": "https://anchore.com/syft/image/%s-%s" % (
               subject_name.rsplit("/", 1)[-1], hexdigest(subject_digest)[:36]),
           "creationInfo": {"licenseListVersion": "3.22", "creators": ["Organization: Anchore, Inc",
                                                                      "Tool: syft-1.4.1"],
                            "created": CREATED},
           "packages": packages, "files": files, "relationships": rels}
    return json.dumps(doc, indent=2) + "\n"


def intoto_link(step, binary_path, binary_digest, libs, command):
    """in-toto v0.9 link: materials are the libraries linked in, the product is the binary."""
    keyid = hexdigest("key|" + step)
    signed = {"_type": "link", "name": step, "command": command,
              "materials": {lib.path.lstrip("/"): {"sha256": lib.digest[7:]} for lib in libs},
              "products": {binary_path.lstrip("/"): {"sha256": binary_digest[7:]}},
              "byproducts": {"return-value": 0, "stderr": "", "stdout": ""},
              "environment": {}}
    doc = {"signatures": [{"keyid": keyid, "sig": hexdigest("sig|" + binary_digest) * 2}],
           "signed": signed}
    return "%s.%s.link" % (step, keyid[:8]), json.dumps(doc, indent=1, sort_keys=True) + "\n"
