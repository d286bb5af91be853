# AddressSanitizer + UndefinedBehaviorSanitizer for the whole build when STRATA_SANITIZE is on.
if(STRATA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
