# The Debian package (CPack's DEB generator), built by scripts/package: everything install.cmake
# installs, under /usr, as build/package/synthfarm_VERSION_ARCH.deb.
set(SYNTHFARM_PACKAGE_MAINTAINER
    "synthfarm maintainers <maintainers@users.noreply.r-seed-1c361e97.example>"
    CACHE STRING "The Debian package's Maintainer field: Name <address>")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME synthfarm)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}/package")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "parallel synthesis of pyo SineLoop oscillators in worker processes")
set(CPACK_PACKAGE_DESCRIPTION_FILE "${CMAKE_CURRENT_LIST_DIR}/description.txt")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Debian policy 10.1: binaries are shipped stripped (lintian: unstripped-binary-or-object).
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # synthfarm_0.1.0_amd64.deb, as Debian names them
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SYNTHFARM_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION sound)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: from the libraries the binaries load, found by dpkg-shlibdeps (package dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# A JACK server to play through, and the loader of the bash completion; synthfarm runs without
# either (it falls back to PulseAudio, ALSA or its null clock).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "jackd2, bash-completion")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
