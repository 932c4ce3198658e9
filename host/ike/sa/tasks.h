// The exchanges of an IKE SA, one Task per concern (after strongSwan's task model). A task runs on
// the initiator side of an exchange: BuildRequest() fills the request's payloads (cleartext; the
// IkeSa protects them), ProcessResponse() consumes the response. The responder side of each
// exchange is an IkeSa::Respond* handler implemented in the same file as the task.
//
//   IkeInitTask        IKE_SA_INIT: proposals, KE (INVALID_KE_PAYLOAD retry), nonces, cookies,
//                      NAT detection, fragmentation and signature-hash negotiation   ike_init.cc
//   IkeAuthTask        IKE_AUTH: identities, PSK or signature AUTH, certificates, the first
//                      CHILD_SA                                                       ike_auth.cc
//   ChildCreateTask    CREATE_CHILD_SA for a new CHILD_SA or a CHILD_SA rekey (optional PFS,
//                      collisions §2.8.1)                                             child_create.cc
//   IkeRekeyTask       CREATE_CHILD_SA rekeying the IKE SA (§2.18)                   ike_rekey.cc
//   InformationalTask  INFORMATIONAL: DELETE of CHILD_SAs or the IKE SA, liveness     informational.cc
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "host/ike/encoding/message.h"
#include "host/ike/sa/ike_sa.h"

namespace ipsec::ike {

class Task {
 public:
  enum class Result : uint8_t {
    kDone,     // exchange complete
    kRestart,  // send a new request from BuildRequest (cookie, INVALID_KE_PAYLOAD)
    kFailed,   // this task failed; the IKE SA continues
    kDestroy,  // the IKE SA cannot continue
  };
  explicit Task(IkeSa& sa) : sa_(sa) {}
  virtual ~Task() = default;
  virtual const char* name() const = 0;
  virtual ExchangeType exchange() const = 0;
  virtual Status BuildRequest(std::vector<Payload>& out) = 0;
  virtual Result ProcessResponse(const std::vector<Payload>& in) = 0;
  // Retransmissions exhausted or the IKE SA is going away; release what the task holds.
  virtual void Abort() {}

 protected:
  IkeSa& sa_;
};

class IkeInitTask : public Task {
 public:
  IkeInitTask(IkeSa& sa, DhGroup group);
  const char* name() const override { return "IKE_SA_INIT"; }
  ExchangeType exchange() const override { return ExchangeType::kIkeSaInit; }
  Status BuildRequest(std::vector<Payload>& out) override;
  Result ProcessResponse(const std::vector<Payload>& in) override;

 private:
  DhGroup group_;
  std::unique_ptr<KeyExchange> ke_;
  std::vector<std::byte> cookie_;
  int restarts_ = 0;
};

// Child negotiation shared by IKE_AUTH and CREATE_CHILD_SA on the initiator side.
struct ChildRequest {
  const ChildConfig* config = nullptr;
  uint32_t spi_in = 0;
  sa::Protocol protocol = sa::Protocol::kEsp;
  std::vector<Proposal> proposals;  // as sent, with our SPI
  std::vector<TrafficSelector> tsi, tsr;
};

class IkeAuthTask : public Task {
 public:
  IkeAuthTask(IkeSa& sa, const ChildConfig* child);
  const char* name() const override { return "IKE_AUTH"; }
  ExchangeType exchange() const override { return ExchangeType::kIkeAuth; }
  Status BuildRequest(std::vector<Payload>& out) override;
  Result ProcessResponse(const std::vector<Payload>& in) override;
  void Abort() override;

 private:
  const ChildConfig* child_config_;
  std::optional<ChildRequest> child_;
};

class ChildCreateTask : public Task {
 public:
  // `rekey_of` is the unique id of the CHILD_SA being rekeyed, or 0 for a new one.
  ChildCreateTask(IkeSa& sa, const ChildConfig* config, uint32_t rekey_of);
  const char* name() const override { return rekey_of_ ? "CHILD_REKEY" : "CHILD_CREATE"; }
  ExchangeType exchange() const override { return ExchangeType::kCreateChildSa; }
  Status BuildRequest(std::vector<Payload>& out) override;
  Result ProcessResponse(const std::vector<Payload>& in) override;
  void Abort() override;
  uint32_t rekey_of() const { return rekey_of_; }

  // Shared with IKE_AUTH. Initiator: allocates the SPI and fills `req` and the SA/TSi/TSr (and
  // USE_TRANSPORT_MODE) payloads; `rekeyed` keeps the old child's selectors.
  static Status BuildChild(IkeSa& sa, const ChildConfig& cfg, bool pfs, const ChildSa* rekeyed, ChildRequest& req,
                           std::vector<Payload>& sa_out, std::vector<Payload>& ts_out);
  // Initiator: checks the response's child part and installs the CHILD_SA; returns its id.
  static StatusOr<uint32_t> CompleteChild(IkeSa& sa, ChildRequest& req, const std::vector<Payload>& in, Bytes g_ir,
                                          Bytes ni, Bytes nr, uint32_t rekey_of);
  // Responder: negotiates and installs a child from a request (IKE_AUTH when `ike_auth`, where no
  // KE is allowed and the IKE nonces are used). Appends the response payloads to `out`; on failure
  // returns the error notify to send instead (the IKE SA is unaffected).
  static std::optional<NotifyType> RespondChild(IkeSa& sa, const std::vector<Payload>& in, bool ike_auth,
                                                ChildSa* rekeyed, std::vector<Payload>& out,
                                                std::vector<std::byte>* out_data, uint32_t* new_child);
  const std::vector<std::byte>& nonce() const { return nonce_; }

 private:
  const ChildConfig* config_;
  uint32_t rekey_of_;
  DhGroup group_ = DhGroup::kNone;
  std::unique_ptr<KeyExchange> ke_;
  std::vector<std::byte> nonce_;
  std::optional<ChildRequest> child_;
  int restarts_ = 0;
};

class IkeRekeyTask : public Task {
 public:
  explicit IkeRekeyTask(IkeSa& sa);
  const char* name() const override { return "IKE_REKEY"; }
  ExchangeType exchange() const override { return ExchangeType::kCreateChildSa; }
  Status BuildRequest(std::vector<Payload>& out) override;
  Result ProcessResponse(const std::vector<Payload>& in) override;
  void Abort() override;

 private:
  uint64_t new_spi_ = 0;
  DhGroup group_;
  std::vector<Proposal> offered_;
  std::unique_ptr<KeyExchange> ke_;
  std::vector<std::byte> nonce_;
  int restarts_ = 0;
};

class InformationalTask : public Task {
 public:
  enum class Kind : uint8_t { kDeleteChild, kDeleteIke, kDpd };
  InformationalTask(IkeSa& sa, Kind kind, uint32_t child = 0);
  const char* name() const override;
  ExchangeType exchange() const override { return ExchangeType::kInformational; }
  Status BuildRequest(std::vector<Payload>& out) override;
  Result ProcessResponse(const std::vector<Payload>& in) override;
  Kind kind() const { return kind_; }
  uint32_t child() const { return child_; }

 private:
  Kind kind_;
  uint32_t child_;
};

// Helpers shared by the tasks.
namespace task_util {
std::vector<std::byte> RandomBytes(IkeSa& sa, size_t n);
const NotifyPayload* FindNotify(const std::vector<Payload>& in, NotifyType type);
// The first error notify (type < 16384), if any.
const NotifyPayload* FindErrorNotify(const std::vector<Payload>& in);
template <typename T>
const T* Find(const std::vector<Payload>& in) {
  for (const Payload& p : in) {
    if (const T* t = std::get_if<T>(&p)) return t;
  }
  return nullptr;
}
const TsPayload* FindTs(const std::vector<Payload>& in, PayloadType type);
const IdPayload* FindId(const std::vector<Payload>& in, PayloadType type);
// Proposals with SPIs set to `spi` (4 bytes) and renumbered; DH transforms removed when !pfs.
std::vector<Proposal> ChildProposals(const ChildConfig& c, uint32_t spi, bool pfs);
std::vector<std::byte> SpiBytes(uint32_t spi);
uint32_t SpiValue(const std::vector<std::byte>& spi);
std::vector<std::byte> SpiBytes64(uint64_t spi);
}  // namespace task_util

}  // namespace ipsec::ike
