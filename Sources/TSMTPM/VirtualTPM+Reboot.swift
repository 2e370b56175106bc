import Glibc
import TSMBytes

extension VirtualTPM {
    /// What a confidential VM's reboot does to its vTPM (`tsmfs ctl reboot`), with the TPM held
    /// throughout, so no command comes between:
    ///
    /// 1. TPM2_Shutdown(CLEAR), as Linux's tpm_class_shutdown sends before the machine resets (its
    ///    answer is not checked, as Linux does not check it);
    /// 2. swtpm's CMD_INIT with PTM_INIT_FLAG_DELETE_VOLATILE on its control channel: TPM_Init, the
    ///    power cycle (swtpm_ioctls(3));
    /// 3. TPM2_Startup(CLEAR): a TPM Reset. PCRs go to their reset values, transient objects and
    ///    sessions are flushed, contexts saved before will not load again (TPM_RC_INTEGRITY: their
    ///    integrity covers totalResetCount), persistent objects and NV indices stay, and NV
    ///    attributes that clear on a reset (TPMA_NV_CLEAR_STCLEAR, a write or read lock) clear
    ///    as TPM 2.0 says (libtpms applies them);
    /// 4. the personality's ``VTPMPersonality/provision(_:)``, as at every start (Azure's HCL
    ///    report made anew);
    /// 5. `boot`: the firmware's measurements, made again.
    ///
    /// A dead or hung swtpm, or a CMD_INIT it refuses (``VTPMError/powerCycleRefused(result:)``),
    /// leaves the vTPM failed: this and every later command throw, answered EIO.
    public func reboot(boot: (HeldTPM) throws(VTPMError) -> Void) throws(VTPMError) {
        try exclusive { () throws(VTPMError) in
            _ = try forward(TPM2Commands.command(.shutdown, parameters: [0, 0]))
            try powerCycle()
            let startup = try TPMResponse(forward(TPM2Commands.command(.startup, parameters: [0, 0])))
            // TPM_RC_INITIALIZE: a swtpm that started the TPM itself (it does not after CMD_INIT).
            guard startup.code == .success || startup.code == .initialize else {
                throw VTPMError.tpm(command: "TPM2_Startup(CLEAR)", responseCode: startup.code.rawValue)
            }
            try configuration.personality?.provision(self)
            try boot(HeldTPM(tpm: self))
        }
        logger.info("vTPM rebooted: TPM2_Startup(CLEAR) after a power cycle, the boot measured again")
    }

    /// CMD_INIT on swtpm's control channel (the TPM's volatile state deleted); a failure retires swtpm.
    private func powerCycle() throws(VTPMError) {
        let seconds = configuration.commandTimeoutSeconds
        try state.withLock { (state) throws(VTPMError) in
            if let failure = state.failure { throw failure }
            guard var channel = state.channel else { throw VTPMError.stopped }
            var failure: VTPMError
            do throws(VTPMError) {
                let answer = try channel.control(
                    SwtpmLauncher.initialize, request: SwtpmLauncher.deleteVolatile.bigEndianBytes, answer: 4,
                    deadline: Deadline(seconds: seconds))
                guard let answer else {
                    let status = channel.reap(grace: 5)
                    logger.error("vTPM: swtpm died", metadata: ["exit status": "\(status)"])
                    throw VTPMError.died(status: status)
                }
                let result = answer.reduce(0) { $0 << 8 | UInt32($1) }
                guard result == 0 else { throw VTPMError.powerCycleRefused(result: result) }
                return
            } catch {
                failure = error
            }
            retire(&state, channel: &channel, error: failure)
            throw failure
        }
    }
}
