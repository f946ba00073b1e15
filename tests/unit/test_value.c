/*
 * test_value.c -- JSON-like values: every type, map order / replace /
 * remove, deep copies, equality, merge, and the errors of the put / set
 * functions on the wrong container.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "docflow/value.h"

static df_arena *arena;

static int setup(void)
{
    arena = df_arena_new(0);
    return 0;
}

static int teardown(void)
{
    df_arena_free(arena);
    return 0;
}

/* {"a": {"b": [1, 2]}, "s": "x"} */
static df_value *sample(df_arena *a)
{
    df_value *root = df_value_new_map(a);
    df_value *inner = df_value_new_map(a);
    df_value *list = df_value_new_list(a);
    df_value_put_number(list, NULL, 1);
    df_value_put_number(list, NULL, 2);
    df_value_set(inner, "b", list);
    df_value_set(root, "a", inner);
    df_value_put_string(root, "s", "x");
    return root;
}

/* ---- types and scalar accessors ------------------------------------------ */

static void test_value_every_type_reports_its_type_and_name(void)
{
    struct {
        df_value *v;
        df_value_type t;
        const char *name;
    } cases[] = {
        {df_value_new_null(arena), DF_VALUE_NULL, "null"},
        {df_value_new_bool(arena, 1), DF_VALUE_BOOL, "bool"},
        {df_value_new_number(arena, 2.5), DF_VALUE_NUMBER, "number"},
        {df_value_new_string(arena, "s", (size_t)-1), DF_VALUE_STRING, "string"},
        {df_value_new_list(arena), DF_VALUE_LIST, "list"},
        {df_value_new_map(arena), DF_VALUE_MAP, "map"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CU_ASSERT_EQUAL(df_value_type_of(cases[i].v), cases[i].t);
        CU_ASSERT_STRING_EQUAL(df_value_type_name(cases[i].t), cases[i].name);
    }
    CU_ASSERT_EQUAL(df_value_type_of(NULL), DF_VALUE_NULL);
}

static void test_value_scalars_read_back(void)
{
    CU_ASSERT_EQUAL(df_value_bool(df_value_new_bool(arena, 1)), 1);
    CU_ASSERT_EQUAL(df_value_bool(df_value_new_bool(arena, 0)), 0);
    CU_ASSERT_EQUAL(df_value_bool(df_value_new_bool(arena, 7)), 1); /* normalised */
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_new_number(arena, -1.25)), -1.25, 0);
    size_t len = 99;
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_new_string(arena, "héllo", (size_t)-1), &len),
                           "héllo");
    CU_ASSERT_EQUAL(len, strlen("héllo"));
}

static void test_value_string_keeps_embedded_nul_and_length(void)
{
    const char raw[] = {'a', '\0', 'b'};
    df_value *v = df_value_new_string(arena, raw, 3);
    size_t len;
    const char *s = df_value_string(v, &len);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_EQUAL(memcmp(s, raw, 3), 0);
    CU_ASSERT_EQUAL(s[3], '\0');
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_new_string(arena, "abcdef", 2), NULL), "ab");
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_new_string(arena, NULL, (size_t)-1), NULL), "");
}

static void test_value_string_is_copied(void)
{
    char buf[] = "mutable";
    df_value *v = df_value_new_string(arena, buf, (size_t)-1);
    buf[0] = 'X';
    CU_ASSERT_STRING_EQUAL(df_value_string(v, NULL), "mutable");
}

static void test_value_accessors_of_the_wrong_type_return_zero_values(void)
{
    df_value *s = df_value_new_string(arena, "1", (size_t)-1);
    df_value *n = df_value_new_number(arena, 1);
    size_t len = 99;
    CU_ASSERT_EQUAL(df_value_bool(s), 0);
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(s), 0.0, 0);
    CU_ASSERT_PTR_NULL(df_value_string(n, &len));
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(df_value_len(s), 0);
    CU_ASSERT_PTR_NULL(df_value_at(n, 0));
    CU_ASSERT_PTR_NULL(df_value_get(s, "x"));
    CU_ASSERT_PTR_NULL(df_value_key_at(df_value_new_list(arena), 0));
    CU_ASSERT_EQUAL(df_value_bool(NULL), 0);
    CU_ASSERT_EQUAL(df_value_len(NULL), 0);
}

/* ---- lists --------------------------------------------------------------- */

static void test_value_list_appends_in_order(void)
{
    df_value *l = df_value_new_list(arena);
    for (int i = 0; i < 20; i++)
        CU_ASSERT_EQUAL(df_value_put_number(l, NULL, i), DF_OK);
    CU_ASSERT_EQUAL(df_value_len(l), 20);
    int in_order = 1;
    for (int i = 0; i < 20; i++)
        if (df_value_number(df_value_at(l, (size_t)i)) != i) in_order = 0;
    CU_ASSERT(in_order);
    CU_ASSERT_PTR_NULL(df_value_at(l, 20));
}

static void test_value_list_put_ignores_the_key(void)
{
    df_value *l = df_value_new_list(arena);
    CU_ASSERT_EQUAL(df_value_put_string(l, "ignored", "a"), DF_OK);
    CU_ASSERT_EQUAL(df_value_put_bool(l, NULL, 1), DF_OK);
    CU_ASSERT_EQUAL(df_value_put_null(l, NULL), DF_OK);
    CU_ASSERT_EQUAL(df_value_len(l), 3);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_at(l, 0), NULL), "a");
    CU_ASSERT_EQUAL(df_value_type_of(df_value_at(l, 1)), DF_VALUE_BOOL);
    CU_ASSERT_EQUAL(df_value_type_of(df_value_at(l, 2)), DF_VALUE_NULL);
}

static void test_value_list_append_null_item_stores_null(void)
{
    df_value *l = df_value_new_list(arena);
    CU_ASSERT_EQUAL(df_value_append(l, NULL), DF_OK);
    CU_ASSERT_EQUAL(df_value_len(l), 1);
    CU_ASSERT_PTR_NOT_NULL(df_value_at(l, 0));
    CU_ASSERT_EQUAL(df_value_type_of(df_value_at(l, 0)), DF_VALUE_NULL);
}

/* ---- maps ---------------------------------------------------------------- */

static void test_value_map_keeps_insertion_order(void)
{
    df_value *m = df_value_new_map(arena);
    const char *keys[] = {"zeta", "alpha", "mid", "beta", "omega", "a"};
    for (int i = 0; i < 6; i++)
        df_value_put_number(m, keys[i], i);
    CU_ASSERT_EQUAL(df_value_len(m), 6);
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_STRING_EQUAL(df_value_key_at(m, (size_t)i), keys[i]);
        CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(m, keys[i])), i, 0);
    }
    CU_ASSERT_PTR_NULL(df_value_get(m, "absent"));
}

static void test_value_map_set_replaces_in_place(void)
{
    df_value *m = df_value_new_map(arena);
    df_value_put_number(m, "a", 1);
    df_value_put_number(m, "b", 2);
    df_value_put_number(m, "c", 3);
    CU_ASSERT_EQUAL(df_value_put_string(m, "b", "two"), DF_OK);
    CU_ASSERT_EQUAL(df_value_len(m), 3);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(m, 1), "b");
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(m, "b"), NULL), "two");
}

static void test_value_map_remove_keeps_the_others_in_order(void)
{
    df_value *m = df_value_new_map(arena);
    df_value_put_number(m, "a", 1);
    df_value_put_number(m, "b", 2);
    df_value_put_number(m, "c", 3);
    CU_ASSERT_EQUAL(df_value_remove(m, "b"), DF_OK);
    CU_ASSERT_EQUAL(df_value_len(m), 2);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(m, 0), "a");
    CU_ASSERT_STRING_EQUAL(df_value_key_at(m, 1), "c");
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(m, "c")), 3, 0);
    CU_ASSERT_PTR_NULL(df_value_get(m, "b"));
    CU_ASSERT_EQUAL(df_value_remove(m, "b"), DF_E_NOT_FOUND);
    /* A removed key can come back; it goes to the end. */
    df_value_put_number(m, "b", 4);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(m, 2), "b");
}

static void test_value_map_key_is_copied(void)
{
    df_value *m = df_value_new_map(arena);
    char key[] = "key";
    df_value_put_bool(m, key, 1);
    key[0] = 'X';
    CU_ASSERT_PTR_NOT_NULL(df_value_get(m, "key"));
    CU_ASSERT_PTR_NULL(df_value_get(m, "Xey"));
}

static void test_value_set_copies_item_from_another_arena(void)
{
    df_arena *other = df_arena_new(0);
    df_value *item = sample(other);
    df_value *m = df_value_new_map(arena);
    CU_ASSERT_EQUAL(df_value_set(m, "copy", item), DF_OK);
    df_value_put_string(item, "s", "changed");
    df_arena_free(other); /* under ASan, a shared pointer would be caught here */
    const df_value *stored = df_value_get(m, "copy");
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(stored, "s"), NULL), "x");
    CU_ASSERT_DOUBLE_EQUAL(
        df_value_number(df_value_at(df_value_get(df_value_get(stored, "a"), "b"), 1)), 2, 0);
}

static void test_value_owned_variants_store_without_copying(void)
{
    df_value *m = df_value_new_map(arena);
    df_value *l = df_value_new_list(arena);
    df_value *item = df_value_new_number(arena, 5);
    CU_ASSERT_EQUAL(df_value_set_owned(m, "k", item), DF_OK);
    CU_ASSERT_EQUAL(df_value_append_owned(l, item), DF_OK);
    CU_ASSERT_PTR_EQUAL(df_value_get(m, "k"), item);
    CU_ASSERT_PTR_EQUAL(df_value_at(l, 0), item);
    CU_ASSERT_PTR_EQUAL(df_value_get_mut(m, "k"), item);
    CU_ASSERT_PTR_EQUAL(df_value_at_mut(l, 0), item);
}

/* ---- wrong containers ---------------------------------------------------- */

static void test_value_put_on_a_scalar_is_invalid_input(void)
{
    df_value *scalars[] = {df_value_new_null(arena), df_value_new_bool(arena, 1),
                           df_value_new_number(arena, 1),
                           df_value_new_string(arena, "s", (size_t)-1), NULL};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        df_value *c = scalars[i];
        CU_ASSERT_EQUAL(df_value_put_string(c, "k", "v"), DF_E_INVALID_INPUT);
        CU_ASSERT_EQUAL(df_value_put_number(c, "k", 1), DF_E_INVALID_INPUT);
        CU_ASSERT_EQUAL(df_value_put_bool(c, "k", 1), DF_E_INVALID_INPUT);
        CU_ASSERT_EQUAL(df_value_put_null(c, "k"), DF_E_INVALID_INPUT);
        CU_ASSERT_EQUAL(df_value_append(c, scalars[0]), DF_E_INVALID_INPUT);
        CU_ASSERT_EQUAL(df_value_set(c, "k", scalars[0]), DF_E_INVALID_INPUT);
    }
    CU_ASSERT_STRING_EQUAL(df_value_string(scalars[3], NULL), "s");
}

static void test_value_append_to_map_and_set_on_list_are_invalid_input(void)
{
    df_value *m = df_value_new_map(arena);
    df_value *l = df_value_new_list(arena);
    df_value *x = df_value_new_number(arena, 1);
    CU_ASSERT_EQUAL(df_value_append(m, x), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_value_set(l, "k", x), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_value_len(m), 0);
    CU_ASSERT_EQUAL(df_value_len(l), 0);
}

static void test_value_map_put_without_key_is_invalid_input(void)
{
    df_value *m = df_value_new_map(arena);
    CU_ASSERT_EQUAL(df_value_put_number(m, NULL, 1), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_value_set(m, NULL, df_value_new_null(arena)), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_value_len(m), 0);
}

/* ---- copies, equality, merge --------------------------------------------- */

static void test_value_copy_is_deep_and_independent(void)
{
    df_value *orig = sample(arena);
    df_arena *other = df_arena_new(0);
    df_value *copy = df_value_copy(other, orig);
    CU_ASSERT(df_value_equal(orig, copy));
    df_value *list = df_value_get_mut(df_value_get_mut(copy, "a"), "b");
    df_value_put_number(list, NULL, 3);
    df_value_put_string(copy, "s", "y");
    df_value_put_bool(copy, "new", 1);
    CU_ASSERT_FALSE(df_value_equal(orig, copy));
    CU_ASSERT_EQUAL(df_value_len(df_value_get(df_value_get(orig, "a"), "b")), 2);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(orig, "s"), NULL), "x");
    CU_ASSERT_EQUAL(df_value_len(orig), 2);
    df_arena_free(other);
    CU_ASSERT(df_value_equal(orig, sample(arena)));
}

static void test_value_copy_of_every_scalar_and_null(void)
{
    df_value *vals[] = {df_value_new_null(arena), df_value_new_bool(arena, 1),
                        df_value_new_number(arena, 1e300), df_value_new_string(arena, "a\0b", 3)};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        df_value *c = df_value_copy(arena, vals[i]);
        CU_ASSERT_PTR_NOT_EQUAL(c, vals[i]);
        CU_ASSERT(df_value_equal(c, vals[i]));
    }
    CU_ASSERT_PTR_NULL(df_value_copy(arena, NULL));
}

static void test_value_equal_maps_ignore_key_order(void)
{
    df_value *x = df_value_new_map(arena), *y = df_value_new_map(arena);
    df_value_put_number(x, "a", 1);
    df_value_put_string(x, "b", "2");
    df_value_put_string(y, "b", "2");
    df_value_put_number(y, "a", 1);
    CU_ASSERT(df_value_equal(x, y));
    df_value_put_null(y, "c");
    CU_ASSERT_FALSE(df_value_equal(x, y));
    CU_ASSERT_FALSE(df_value_equal(y, x));
}

static void test_value_equal_maps_with_same_size_but_other_keys_differ(void)
{
    df_value *x = df_value_new_map(arena), *y = df_value_new_map(arena);
    df_value_put_null(x, "a");
    df_value_put_null(y, "b");
    CU_ASSERT_FALSE(df_value_equal(x, y));
}

static void test_value_equal_lists_respect_order(void)
{
    df_value *x = df_value_new_list(arena), *y = df_value_new_list(arena);
    df_value_put_number(x, NULL, 1);
    df_value_put_number(x, NULL, 2);
    df_value_put_number(y, NULL, 2);
    df_value_put_number(y, NULL, 1);
    CU_ASSERT_FALSE(df_value_equal(x, y));
}

static void test_value_equal_distinguishes_types_and_values(void)
{
    CU_ASSERT_FALSE(df_value_equal(df_value_new_number(arena, 1), df_value_new_bool(arena, 1)));
    CU_ASSERT_FALSE(
        df_value_equal(df_value_new_number(arena, 1), df_value_new_string(arena, "1", 1)));
    CU_ASSERT_FALSE(df_value_equal(df_value_new_list(arena), df_value_new_map(arena)));
    CU_ASSERT_FALSE(df_value_equal(df_value_new_string(arena, "a\0b", 3),
                                   df_value_new_string(arena, "a\0c", 3)));
    CU_ASSERT(df_value_equal(df_value_new_number(arena, NAN), df_value_new_number(arena, NAN)));
    CU_ASSERT(df_value_equal(NULL, df_value_new_null(arena)));
    df_value *deep = sample(arena);
    df_value_put_number(df_value_get_mut(df_value_get_mut(deep, "a"), "b"), NULL, 9);
    CU_ASSERT_FALSE(df_value_equal(deep, sample(arena)));
}

static void test_value_merge_override_wins_and_new_keys_append(void)
{
    df_value *into = df_value_new_map(arena), *from = df_value_new_map(arena);
    df_value_put_number(into, "a", 1);
    df_value_put_number(into, "b", 2);
    df_value_put_string(from, "b", "override");
    df_value_put_number(from, "c", 3);
    CU_ASSERT_EQUAL(df_value_merge(into, from), DF_OK);
    CU_ASSERT_EQUAL(df_value_len(into), 3);
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(into, "a")), 1, 0);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(into, "b"), NULL), "override");
    CU_ASSERT_STRING_EQUAL(df_value_key_at(into, 1), "b");
    CU_ASSERT_STRING_EQUAL(df_value_key_at(into, 2), "c");
    df_value_put_number(from, "c", 99); /* merged values are copies */
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(into, "c")), 3, 0);
}

static void test_value_merge_is_shallow(void)
{
    df_value *into = sample(arena);
    df_value *from = df_value_new_map(arena);
    df_value *inner = df_value_new_map(arena);
    df_value_put_bool(inner, "only", 1);
    df_value_set(from, "a", inner);
    CU_ASSERT_EQUAL(df_value_merge(into, from), DF_OK);
    const df_value *a = df_value_get(into, "a");
    CU_ASSERT_EQUAL(df_value_len(a), 1);
    CU_ASSERT_PTR_NULL(df_value_get(a, "b"));
}

static void test_value_merge_rejects_non_maps(void)
{
    df_value *m = df_value_new_map(arena);
    CU_ASSERT_EQUAL(df_value_merge(m, NULL), DF_OK);
    CU_ASSERT_EQUAL(df_value_merge(df_value_new_list(arena), m), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_value_merge(m, df_value_new_list(arena)), DF_E_INVALID_INPUT);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("value", setup, teardown);
    CU_add_test(s, "every type reports its type and name",
                test_value_every_type_reports_its_type_and_name);
    CU_add_test(s, "scalars read back", test_value_scalars_read_back);
    CU_add_test(s, "string keeps embedded NUL and length",
                test_value_string_keeps_embedded_nul_and_length);
    CU_add_test(s, "string is copied", test_value_string_is_copied);
    CU_add_test(s, "accessors of the wrong type return zero values",
                test_value_accessors_of_the_wrong_type_return_zero_values);
    CU_add_test(s, "list appends in order", test_value_list_appends_in_order);
    CU_add_test(s, "list put ignores the key", test_value_list_put_ignores_the_key);
    CU_add_test(s, "list append of NULL stores null", test_value_list_append_null_item_stores_null);
    CU_add_test(s, "map keeps insertion order", test_value_map_keeps_insertion_order);
    CU_add_test(s, "map set replaces in place", test_value_map_set_replaces_in_place);
    CU_add_test(s, "map remove keeps the others in order",
                test_value_map_remove_keeps_the_others_in_order);
    CU_add_test(s, "map key is copied", test_value_map_key_is_copied);
    CU_add_test(s, "set copies an item from another arena",
                test_value_set_copies_item_from_another_arena);
    CU_add_test(s, "owned variants store without copying",
                test_value_owned_variants_store_without_copying);
    CU_add_test(s, "put on a scalar is invalid input", test_value_put_on_a_scalar_is_invalid_input);
    CU_add_test(s, "append to map / set on list are invalid input",
                test_value_append_to_map_and_set_on_list_are_invalid_input);
    CU_add_test(s, "map put without key is invalid input",
                test_value_map_put_without_key_is_invalid_input);
    CU_add_test(s, "copy is deep and independent", test_value_copy_is_deep_and_independent);
    CU_add_test(s, "copy of every scalar and NULL", test_value_copy_of_every_scalar_and_null);
    CU_add_test(s, "equal maps ignore key order", test_value_equal_maps_ignore_key_order);
    CU_add_test(s, "equal maps of the same size with other keys differ",
                test_value_equal_maps_with_same_size_but_other_keys_differ);
    CU_add_test(s, "equal lists respect order", test_value_equal_lists_respect_order);
    CU_add_test(s, "equal distinguishes types and values",
                test_value_equal_distinguishes_types_and_values);
    CU_add_test(s, "merge: override wins, new keys append",
                test_value_merge_override_wins_and_new_keys_append);
    CU_add_test(s, "merge is shallow", test_value_merge_is_shallow);
    CU_add_test(s, "merge rejects non-maps", test_value_merge_rejects_non_maps);
}
