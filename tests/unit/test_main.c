/*
 * test_main.c -- the shared main() of the CUnit unit tests: each test file
 * defines df_test_register() to add its suites; this runs them and turns
 * failures into the exit code ctest reads.
 */
#include <CUnit/Basic.h>
#include <stdio.h>

void df_test_register(void);

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    df_test_register();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
