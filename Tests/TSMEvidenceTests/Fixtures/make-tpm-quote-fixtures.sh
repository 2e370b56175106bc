#!/bin/sh
# Makes Tests/TSMEvidenceTests/Fixtures/tpm-quote-*: a real TPM2_Quote from swtpm through tpm2-tools.
set -eu
out=${1:?output directory}
work=$(mktemp -d)
trap 'kill $(cat "$work/pid") 2>/dev/null; rm -rf "$work"' EXIT
swtpm socket --tpm2 --tpmstate dir="$work" --server type=tcp,port=23211 --ctrl type=tcp,port=23212 \
    --flags not-need-init,startup-clear --pid file="$work/pid" --daemon
export TPM2TOOLS_TCTI=swtpm:port=23211
tpm2_createek -c "$work/ek.ctx" -G rsa -u "$work/ek.pub" >/dev/null; tpm2_flushcontext -t; tpm2_flushcontext -s
tpm2_pcrextend 10:sha256=$(printf 'event' | sha256sum | cut -c1-64)
for alg in rsa ecc; do
    tpm2_createak -C "$work/ek.ctx" -c "$work/ak.ctx" -G $alg -g sha256 -s $([ $alg = rsa ] && echo rsassa || echo ecdsa) \
        -u "$work/ak.pub" >/dev/null; tpm2_flushcontext -t; tpm2_flushcontext -s
    tail -c +3 "$work/ak.pub" > "$out/tpm-quote-$alg.ak-tpmt-public"
    printf '%s' "tsmfs fixture nonce" | xxd -p | tr -d '\n' > "$work/nonce"
    tpm2_quote -c "$work/ak.ctx" -l sha256:0,1,10 -q "$(cat "$work/nonce")" -m "$out/tpm-quote-$alg.msg" \
        -s "$out/tpm-quote-$alg.sig" -g sha256 >/dev/null
    tpm2_flushcontext -t
done
