/** The remote side of a heartbeat relation: what a heartbeat manager calls on the components it monitors. */

/**
 * Something heartbeats can be sent to and requested from — usually a thin adapter over a gateway of the monitored
 * endpoint (Flink's `HeartbeatTarget`).
 *
 * Both methods must report failures through their promise: declare the gateway methods behind them as **asks**
 * (returning `Promise<void>`), never as tells (`void`). A tell is fire-and-forget, so a dead or unreachable peer
 * would look healthy to the RPC-failure detection, which then could never report it unreachable; only the (much
 * slower) heartbeat timeout would catch it.
 *
 * ```ts
 * const target: HeartbeatTarget<SlotReport> = {
 *   receiveHeartbeat: (from, payload) => taskExecutorGateway.heartbeatFromResourceManager(from, payload),
 *   requestHeartbeat: (from, payload) => taskExecutorGateway.heartbeatFromResourceManager(from, payload),
 * };
 * ```
 *
 * @typeParam I type of the payload sent to the target
 */
export interface HeartbeatTarget<I> {
  /**
   * Delivers a heartbeat (the answer to a request, or an unsolicited heartbeat) from `heartbeatOrigin`.
   * @returns settles when the target received it; a rejection counts as a failed heartbeat RPC
   */
  receiveHeartbeat(heartbeatOrigin: string, heartbeatPayload: I): Promise<void>;

  /**
   * Asks the target for a heartbeat: a target that monitors `requestOrigin` answers with `receiveHeartbeat` back.
   * @returns settles when the target received the request (not when its answer arrives); a rejection counts as a
   *   failed heartbeat RPC
   */
  requestHeartbeat(requestOrigin: string, heartbeatPayload: I): Promise<void>;
}
