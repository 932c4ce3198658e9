// SPDX-License-Identifier: Apache-2.0
//
// Anti-replay window package: operation and verdict codes shared by esp_replay and its users.
//
// The verdict codes have the order of the software model's sa::ReplayVerdict (host/sa/
// replay_window.h), so the engine can pass them to the host unchanged.
`default_nettype none

package esp_replay_pkg;

  // One request on esp_replay's input.
  typedef enum logic [1:0] {
    OpCheck  = 2'd0,  // before decryption: infer the 64-bit sequence number, test it; no state change
    OpUpdate = 2'd1,  // after the ICV verified: re-test the 64-bit number and commit it
    OpInit   = 2'd2,  // SA install/delete/restore: top := in_seq_i, empty bitmap, new window/ESN
    OpRead   = 2'd3   // returns the SA's top (highest authenticated sequence number); no change
  } op_e;

  typedef enum logic [1:0] {
    VerdictOk     = 2'd0,  // new, or inside the window and not seen (also every INIT/READ)
    VerdictReplay = 2'd1,  // inside the window and already seen
    VerdictTooOld = 2'd2,  // left of the window
    VerdictZero   = 2'd3   // sequence number 0 is never sent (RFC 4303 §3.3.3)
  } verdict_e;

endpackage
