# Drivers of bench/figures/03_memory.py .. 06_bindings.py (issue 6, figures 3-6).
# Included by bench/CMakeLists.txt. The figures look for the driver at
# <build>/bench/figures_driver (and build it themselves with cc when missing).
add_executable(obatch_figures_driver ${CMAKE_CURRENT_LIST_DIR}/figures_driver.c)
target_link_libraries(obatch_figures_driver PRIVATE obatch)
set_target_properties(obatch_figures_driver PROPERTIES
  OUTPUT_NAME figures_driver
  C_STANDARD 11
  RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
target_compile_options(obatch_figures_driver PRIVATE ${OBATCH_WARNINGS})
