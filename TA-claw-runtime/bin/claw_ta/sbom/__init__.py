"""SBOM and in-toto link parsing, the library index, and the matching rules of | clawsbomcheck."""
