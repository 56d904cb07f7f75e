#!/bin/bash
# Submits the shard array, then the merge to run only if every shard succeeded.
set -euo pipefail
: "${ACCOUNT:?set ACCOUNT to the account directory}" "${OUT:?set OUT to a shared directory}"
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
array=$(sbatch --parsable --export=ALL,ACCOUNT="$ACCOUNT",OUT="$OUT" "$here/simulate.sbatch")
sbatch --dependency=afterok:"${array%%;*}" --export=ALL,OUT="$OUT" "$here/merge.sbatch"
