# The card top's SystemVerilog sources in read order (packages first, for Yosys), for whoever
# builds the whole card: the system tests and the sim backend (driver/sim), the synthesis target
# and the bitstream recipe (bitstreams/). Sets IPSEC_CARD_TOP_SOURCES and IPSEC_CARD_VLT.
set(_card ${CMAKE_CURRENT_LIST_DIR})
set(_ip ${_card}/../ip)
set(_common ${_card}/../common/rtl)
# Helper modules of the ESP engines (esp_in_*.sv, esp_out_*.sv, esp_common_*.sv).
file(GLOB _esp_helpers ${_card}/rtl/esp_in_*.sv ${_card}/rtl/esp_out_*.sv ${_card}/rtl/esp_common_*.sv)
list(SORT _esp_helpers)
set(IPSEC_CARD_TOP_SOURCES
  ${_ip}/aes/rtl/aes_pkg.sv
  ${_ip}/ghash/rtl/ghash_pkg.sv
  ${_ip}/esp_replay/rtl/esp_replay_pkg.sv
  ${_card}/rtl/ipsec_card_pkg.sv
  ${_ip}/aes/rtl/aes_sbox.sv
  ${_ip}/aes/rtl/aes_round.sv
  ${_ip}/aes/rtl/aes_key_expand.sv
  ${_common}/fifo_sync.sv
  ${_common}/fifo_wipe.sv
  ${_common}/skid_buffer.sv
  ${_ip}/aes/rtl/aes_enc_pipe.sv
  ${_ip}/ghash/rtl/ghash_core.sv
  ${_ip}/aes_gcm/rtl/aes_gcm_core.sv
  ${_ip}/esp_replay/rtl/esp_replay.sv
  ${_card}/rtl/sa_table.sv
  ${_card}/rtl/card_regs.sv
  ${_card}/rtl/sa_prep.sv
  ${_card}/rtl/card_ctrl.sv
  ${_card}/rtl/queue_engine.sv
  ${_card}/rtl/dma_rd.sv
  ${_card}/rtl/dma_wr.sv
  ${_card}/rtl/axi_rd_mux.sv
  ${_card}/rtl/axi_wr_mux.sv
  ${_esp_helpers}
  ${_card}/rtl/esp_outbound.sv
  ${_card}/rtl/esp_inbound.sv
  ${_card}/rtl/esp_engine.sv
  ${_card}/rtl/ipsec_card_top.sv)
# Verilator waivers of every block (each file says why), for lint and for Verilating the top.
set(IPSEC_CARD_VLT)
foreach(v ${_ip}/aes/lint/aes.vlt ${_ip}/ghash/lint/ghash.vlt ${_ip}/aes_gcm/lint/aes_gcm.vlt
    ${_ip}/esp_replay/lint/esp_replay.vlt ${_card}/lint/ipsec_card.vlt ${_card}/lint/queue_engine.vlt
    ${_card}/lint/dma.vlt ${_card}/lint/esp_outbound.vlt ${_card}/lint/esp_inbound.vlt
    ${_card}/lint/ipsec_card_top.vlt)
  if(EXISTS ${v})
    list(APPEND IPSEC_CARD_VLT ${v})
  endif()
endforeach()
