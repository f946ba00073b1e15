# embed_templates.cmake -- run with cmake -P at build time: turns every file
# of templates/ into a C array, so docflow-hub new needs no files at run
# time (an installed or moved docflow-hub carries its templates inside).
#   cmake -DDIR=<templates folder> -DOUT=<generated .c> -P embed_templates.cmake
file(GLOB files RELATIVE ${DIR} ${DIR}/*.in)
list(SORT files)
set(body "/* Generated from hub/templates/ by hub/embed_templates.cmake: do not edit. */\n")
string(APPEND body "#include \"hub_templates.h\"\n\n")
set(table "")
set(i 0)
foreach(f ${files})
  file(READ ${DIR}/${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" hex "${hex}")
  string(REGEX REPLACE "\\.in$" "" name ${f})
  string(APPEND body "static const unsigned char t${i}[] = {\n${hex}0};\n")
  string(APPEND table "    {\"${name}\", (const char *)t${i}, sizeof t${i} - 1},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "\nconst hub_template hub_templates[] = {\n${table}    {0, 0, 0}};\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
