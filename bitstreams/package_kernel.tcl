# Packages hw/card/rtl as the Vitis RTL kernel ipsec_card.xo (Vivado batch mode):
#   vivado -mode batch -source package_kernel.tcl -tclargs <part> <out.xo> <sources.f> <build_id> <build_date>
# sources.f lists the SystemVerilog files in read order, one per line (the Makefile writes it
# from hw/card/card_sources.cmake, the list the Verilator and Yosys builds use, so the three can
# never disagree). BuildId/BuildDate are stamped into the ID block as top-level generics.
if {[llength $argv] != 5} {
  puts "usage: package_kernel.tcl <part> <out.xo> <sources.f> <build_id> <build_date>"
  exit 1
}
lassign $argv part xo_path sources_f build_id build_date
set here [file dirname [file normalize [info script]]]
set proj_dir [file normalize ./ipsec_card_pkg_proj]
set ip_dir [file normalize ./ipsec_card_ip]

create_project -force ipsec_card_pkg $proj_dir -part $part
set fh [open $sources_f r]
set srcs [split [string trim [read $fh]] "\n"]
close $fh
add_files -norecurse $srcs
foreach f $srcs { set_property file_type SystemVerilog [get_files $f] }
set_property top ipsec_card_top [current_fileset]
set_property generic "BuildId=32'h$build_id BuildDate=$build_date" [current_fileset]
# Out-of-context constraints (clock) for the packaging run; the platform supplies the real ones.
add_files -fileset constrs_1 -norecurse [file join $here ipsec_card_ooc.xdc]
set_property USED_IN {synthesis out_of_context} [get_files ipsec_card_ooc.xdc]
update_compile_order -fileset sources_1

ipx::package_project -root_dir $ip_dir -vendor ipsec-accel.org -library kernel -taxonomy /KernelIP -import_files -set_current false
ipx::unload_core $ip_dir/component.xml
ipx::edit_ip_in_project -upgrade true -name tmp_edit_project -directory $ip_dir $ip_dir/component.xml
set core [ipx::current_core]
set_property core_revision 1 $core
foreach up [ipx::get_user_parameters] { ipx::remove_user_parameter [get_property NAME $up] $core }
set_property sdx_kernel true $core
set_property sdx_kernel_type rtl $core
set_property vitis_drc {ctrl_protocol user_managed} $core
set_property ipi_drc {ignore_freq_hz true} $core

# Interfaces: AXI4-Lite slave (64 KiB BAR), AXI4 master toward host memory, clock, reset, interrupt.
ipx::associate_bus_interfaces -busif s_axi_control -clock ap_clk $core
ipx::associate_bus_interfaces -busif m_axi_gmem -clock ap_clk $core
set mm [ipx::get_memory_maps s_axi_control -of_objects $core]
if {$mm eq ""} { set mm [ipx::add_memory_map s_axi_control $core] }
set_property slave_memory_map_ref s_axi_control [ipx::get_bus_interfaces s_axi_control -of_objects $core]
set blk [ipx::add_address_block reg0 $mm]
set_property range 0x10000 $blk
set_property range_dependency {} $blk
set_property value_resolve_type immediate [ipx::get_bus_parameters FREQ_HZ -of_objects [ipx::get_bus_interfaces ap_clk -of_objects $core]]
set irq [ipx::get_bus_interfaces interrupt -of_objects $core]
if {$irq eq ""} {
  set irq [ipx::add_bus_interface interrupt $core]
  set_property abstraction_type_vlnv xilinx.com:signal:interrupt_rtl:1.0 $irq
  set_property bus_type_vlnv xilinx.com:signal:interrupt:1.0 $irq
  set_property interface_mode master $irq
  ipx::add_port_map INTERRUPT $irq
  set_property physical_name interrupt [ipx::get_port_maps INTERRUPT -of_objects $irq]
}
ipx::add_bus_parameter SENSITIVITY $irq
set_property value LEVEL_HIGH [ipx::get_bus_parameters SENSITIVITY -of_objects $irq]
# 64-bit addresses on the master (the shell's host-memory bridge takes full IOVAs).
set_property value 64 [ipx::get_bus_parameters ADDR_WIDTH -of_objects [ipx::get_bus_interfaces m_axi_gmem -of_objects $core]]

ipx::create_xgui_files $core
ipx::update_checksums $core
ipx::check_integrity -kernel -xrt $core
ipx::save_core $core
close_project -delete

package_xo -force -xo_path $xo_path -kernel_name ipsec_card -ip_directory $ip_dir -kernel_xml [file join $here kernel.xml]
puts "packaged $xo_path"
